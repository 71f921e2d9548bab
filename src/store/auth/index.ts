/** Identity: users, credentials, sessions, nonces, roles, profiles, external logins: the folder's public face. */
export * from './credentials.js';
export * from './external-logins.js';
export * from './nonces.js';
export * from './password-hash.js';
export * from './profiles.js';
export * from './roles.js';
export * from './sessions.js';
export * from './types.js';
export * from './users.js';
