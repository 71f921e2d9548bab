/**
 * pgstore as a library: connect and the typed stores, connection resolution, the embedded
 * server, migrations, health, and the error classes.
 */
export * from './errors.js';
export { connect, type ConnectOptions, type Database, type ClientScope } from './connect.js';
export type { ReplicaStores } from './store/replica-reads.js';
export type { FallbackReason, ReadOptions, ReplicaSettings, ReplicaStats } from './db/replicas.js';
export { createStores, type Stores, type Queryable } from './store/index.js';
export type {
  User,
  UserStatus,
  CredentialInfo,
  Session,
  ExternalLogin,
  Nonce,
  Profile,
  Preferences,
  Role,
  AssignedRole,
  Page,
  PageOptions,
} from './store/auth/index.js';
export type { UsersStore, NewUser, UserPatch, UserListOptions, GetOrCreateResult } from './store/auth/index.js';
export type { CredentialsStore, CredentialsOptions } from './store/auth/index.js';
export type { SessionsStore, NewSession, CreatedSession } from './store/auth/index.js';
export type { ExternalLoginsStore, NewExternalLogin } from './store/auth/index.js';
export type { NoncesStore } from './store/auth/index.js';
export type { ProfilesStore, PreferencesStore, ProfilePatch } from './store/auth/index.js';
export type { RolesStore } from './store/auth/index.js';
export type {
  Tenant,
  TenantStatus,
  NewTenant,
  TenantPatch,
  App,
  AppStatus,
  NewApp,
  AppPatch,
  Branch,
  BranchStatus,
  NewBranch,
  BranchPatch,
  Member,
  MembershipStatus,
  NewMember,
  MemberPatch,
  UserApp,
  UserAppStatus,
  AppKey,
  AppKeyStatus,
  KeyEnvironment,
  NewAppKey,
  CreatedAppKey,
  RotatedAppKey,
  RotateOptions,
  JsonObject,
  Paging,
} from './store/tenancy/index.js';
export type { TenantsStore, TenantVisibility, TenantListOptions } from './store/tenancy/index.js';
export type { AppsStore, AppListOptions } from './store/tenancy/index.js';
export type { BranchesStore, BranchListOptions } from './store/tenancy/index.js';
export type { MembershipsStore, MemberListOptions } from './store/tenancy/index.js';
export type { UserAppsStore, UserAppListOptions } from './store/tenancy/index.js';
export type { AppKeysStore, AppKeyListOptions } from './store/tenancy/index.js';
export {
  hashPassword,
  verifyPasswordHash,
  needsRehash,
  DEFAULT_SCRYPT_PARAMS,
  type ScryptParams,
} from './store/auth/index.js';
export type {
  EventEnvelope,
  HostEvent,
  HostEventType,
  HostCreated,
  IpAddressChanged,
  HostnameChanged,
  CommentUpdated,
  TagsModified,
  AliasesModified,
  HostDeleted,
  HostEntry,
  HostSearch,
  Snapshot,
  SnapshotMetadata,
  RetentionPolicy,
  BatchItem,
} from './store/hosts/index.js';
export type { HostEventsStore } from './store/hosts/index.js';
export type { HostsStore } from './store/hosts/index.js';
export type { SnapshotsStore } from './store/hosts/index.js';
export { libpqEnv, type LibpqConnection } from './tools/libpq-env.js';
export {
  resolveConnection,
  connectionUrl,
  type ConnectionTarget,
  type ServerConnection,
  type EmbeddedTarget,
  type PoolSettings,
} from './db/config.js';
export { redact, redactUrl } from './util/redact.js';
export { runHealth, type HealthOptions } from './core/health/index.js';
export type { HealthReport, CheckResult, HealthStatus } from './core/health/index.js';
export { startServer, stopServer, serverStatus, serverUrl, type ServerStatus } from './core/server/index.js';
export { migrateUp, migrateDown, type MigrateOptions, type MigrateResult } from './core/migrate/index.js';
export { migrationStatus, verifyMigrations, type MigrationStatus } from './core/migrate/index.js';
export { setup, type SetupOptions, type SetupResult } from './core/setup/index.js';
export { backup, type BackupOptions, type BackupResult } from './core/backup/index.js';
export {
  listDatabaseBackups,
  verifyBackup,
  pruneBackups,
  deleteBackup,
  type BackupListing,
  type PruneOptions,
  type PruneResult,
} from './core/backup/index.js';
export { CorruptBackupError, type BackupManifest, type ManifestFile } from './core/backup/index.js';
export { defaultBackupDir } from './core/backup/index.js';
export { restore, type RestoreOptions, type RestoreResult } from './core/restore/index.js';
