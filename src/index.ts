/**
 * pgstore as a library: connect and the typed stores, connection resolution, the embedded
 * server, migrations, health, and the error classes.
 */
export * from './errors.js';
export { connect, type ConnectOptions, type Database } from './connect.js';
export { createStores, type Stores, type Queryable } from './store/index.js';
export type { User, UserStatus, CredentialInfo, Session, ExternalLogin, Nonce, Profile, Preferences, Role, AssignedRole, Page, PageOptions } from './store/auth/types.js';
export type { UsersStore, NewUser, UserPatch, UserListOptions, GetOrCreateResult } from './store/auth/users.js';
export type { CredentialsStore, CredentialsOptions } from './store/auth/credentials.js';
export type { SessionsStore, NewSession, CreatedSession } from './store/auth/sessions.js';
export type { ExternalLoginsStore, NewExternalLogin } from './store/auth/external-logins.js';
export type { NoncesStore } from './store/auth/nonces.js';
export type { ProfilesStore, PreferencesStore, ProfilePatch } from './store/auth/profiles.js';
export type { RolesStore } from './store/auth/roles.js';
export type {
  Tenant, TenantStatus, NewTenant, TenantPatch, App, AppStatus, NewApp, AppPatch, Branch, BranchStatus, NewBranch, BranchPatch,
  Member, MembershipStatus, NewMember, MemberPatch, UserApp, UserAppStatus, AppKey, AppKeyStatus, KeyEnvironment, NewAppKey,
  CreatedAppKey, RotatedAppKey, RotateOptions, JsonObject, Paging,
} from './store/tenancy/types.js';
export type { TenantsStore, TenantVisibility, TenantListOptions } from './store/tenancy/tenants.js';
export type { AppsStore, AppListOptions } from './store/tenancy/apps.js';
export type { BranchesStore, BranchListOptions } from './store/tenancy/branches.js';
export type { MembershipsStore, MemberListOptions } from './store/tenancy/memberships.js';
export type { UserAppsStore, UserAppListOptions } from './store/tenancy/user-apps.js';
export type { AppKeysStore, AppKeyListOptions } from './store/tenancy/app-keys.js';
export { hashPassword, verifyPasswordHash, needsRehash, DEFAULT_SCRYPT_PARAMS, type ScryptParams } from './store/auth/password-hash.js';
export type {
  EventEnvelope, HostEvent, HostEventType, HostCreated, IpAddressChanged, HostnameChanged, CommentUpdated, TagsModified, AliasesModified, HostDeleted,
  HostEntry, HostSearch, Snapshot, SnapshotMetadata, RetentionPolicy, BatchItem,
} from './store/hosts/types.js';
export type { HostEventsStore } from './store/hosts/events.js';
export type { HostsStore } from './store/hosts/hosts.js';
export type { SnapshotsStore } from './store/hosts/snapshots.js';
export { resolveConnection, connectionUrl, libpqEnv, type ConnectionTarget, type ServerConnection, type EmbeddedTarget, type PoolSettings } from './db/config.js';
export { redact, redactUrl } from './db/redact.js';
export { runHealth, type HealthOptions } from './core/health/health.js';
export type { HealthReport, CheckResult, HealthStatus } from './core/health/types.js';
export { startServer, stopServer, serverStatus, serverUrl, type ServerStatus } from './core/server/server.js';
export { migrateUp, migrateDown, type MigrateOptions, type MigrateResult } from './core/migrate/migrate.js';
export { migrationStatus, verifyMigrations, type MigrationStatus } from './core/migrate/status.js';
export { setup, type SetupOptions, type SetupResult } from './core/setup/setup.js';
export { backup, type BackupOptions, type BackupResult } from './core/backup/backup.js';
export { listDatabaseBackups, verifyBackup, pruneBackups, deleteBackup, type BackupListing, type PruneOptions, type PruneResult } from './core/backup/ops.js';
export { CorruptBackupError, type BackupManifest, type ManifestFile } from './core/backup/manifest.js';
export { defaultBackupDir } from './core/backup/paths.js';
export { restore, type RestoreOptions, type RestoreResult } from './core/restore/restore.js';
