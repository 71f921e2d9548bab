/** What the global setup tells the tests about the test server. */
export interface TestServer {
  home: string;
  port: number;
  user: string;
  password: string;
  /** Superuser URL on the `postgres` database. */
  adminUrl: string;
}

/** The database every test database is copied from (migrated once by the global setup). */
export const TEMPLATE_DB = 'pgstore_template';

declare module 'vitest' {
  export interface ProvidedContext {
    pgServer: TestServer;
  }
}
