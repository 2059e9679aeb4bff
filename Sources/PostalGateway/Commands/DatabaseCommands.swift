import ArgumentParser
import Foundation
import Persistence
import PostgresStorage
import Tracking

/// `postal-gateway db migrate|version`: the PostgreSQL database a scaled-out deployment shares.
struct DatabaseCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "db",
    abstract:
      "The shared PostgreSQL database: migrate it, show its schema version, or copy a SQLite data directory into it.",
    discussion: """
      The embedded default is SQLite in the data directory and needs none of this. PostgreSQL \
      is the scale-out backend: replicas started with `serve --database-url` (or `database` in \
      the configuration) share it.
      """,
    subcommands: [
      DatabaseMigrateCommand.self, DatabaseVersionCommand.self, DatabaseCopyCommand.self,
    ]
  )
}

/// Where the database is: a flag, or the environment (so the password stays out of `ps`).
struct DatabaseURLOptions: ParsableArguments {
  @Option(
    help: """
      postgres://user[:password]@host[:port]/database[?sslmode=require] (default: \
      $POSTAL_GATEWAY_DATABASE_URL; a password may also come from $PGPASSWORD).
      """
  )
  var databaseURL: String?

  func location() throws -> PostgresLocation {
    guard
      let url = self.databaseURL
        ?? ProcessInfo.processInfo.environment["POSTAL_GATEWAY_DATABASE_URL"]
    else {
      throw ValidationError("give --database-url or set POSTAL_GATEWAY_DATABASE_URL")
    }
    return try PostgresLocation(url: url)
  }
}

/// `postal-gateway db migrate`
struct DatabaseMigrateCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "migrate",
    abstract:
      "Bring the PostgreSQL schema up to this version (safe while other replicas start: one migrates, the others wait)."
  )
  @OptionGroup var database: DatabaseURLOptions

  func run() async throws {
    let location = try self.database.location()
    let database = try await PostgresPool.open(location, maximumConnections: 1)
    defer { database.close() }
    let (from, to) = try await PostgresSchema.migrate(database)
    print(
      from == to
        ? "\(location.redacted): schema version \(to), up to date"
        : "\(location.redacted): schema migrated from version \(from) to \(to)"
    )
  }
}

/// `postal-gateway db version`
struct DatabaseVersionCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "version",
    abstract: "Print the schema version of the PostgreSQL database and the one this build knows."
  )
  @OptionGroup var database: DatabaseURLOptions

  func run() async throws {
    let location = try self.database.location()
    let database = try await PostgresPool.open(location, maximumConnections: 1)
    defer { database.close() }
    let found = try await PostgresSchema.version(of: database)
    print(
      "\(location.redacted): schema version \(found); this build knows \(PostgresSchema.latest)"
    )
    try await PostgresSchema.check(database)
  }
}

/// `postal-gateway db copy`: moves a province from SQLite to PostgreSQL.
struct DatabaseCopyCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "copy",
    abstract:
      "Copy a SQLite data directory (shipments, events, custody log, checkpoints, keys, scans) into an empty PostgreSQL database, then check its custody log.",
    discussion: """
      Stop the gateway serving the data directory first. The target is migrated, must hold no \
      shipment yet, and is filled in one transaction (scans follow, sealed again). Then \
      `log fsck` runs on it: every checkpoint signed on SQLite must match the copied tree. Serve \
      the copy with the same data directory's secrets and key file: `serve --database-url …`.
      """
  )
  @Option(help: "The SQLite data directory to copy.") var from: String
  @Option(
    help:
      "The empty PostgreSQL database: postgres://user@host:port/name (default $POSTAL_GATEWAY_DATABASE_URL; password also from $PGPASSWORD)."
  )
  var to: String?
  @Option(
    help: "The configuration file the data directory was served with (key files, trust domain)."
  )
  var config: String?

  func run() async throws {
    var configuration = GatewayConfiguration()
    if let config { try configuration.apply(file: config) }
    configuration.dataDirectory = self.from
    guard FileManager.default.fileExists(atPath: configuration.databasePath) else {
      throw ValidationError("no SQLite database at \(configuration.databasePath)")
    }
    guard let url = self.to ?? ProcessInfo.processInfo.environment["POSTAL_GATEWAY_DATABASE_URL"]
    else {
      throw ValidationError("give --to or set POSTAL_GATEWAY_DATABASE_URL")
    }
    let location = try PostgresLocation(url: url)
    let directory = DataDirectory(configuration: configuration)
    let keys = try directory.keyEncryptionKeys(create: false)
    let stores = try SQLiteStorage.open(
      path: configuration.databasePath,
      blobDirectory: configuration.blobDirectory,
      keys: keys
    )
    guard let export = SQLiteExport(of: stores) else { throw ExitCode(1) }
    let pool = try await PostgresStorage.connect(location, maximumConnections: 4)
    defer { pool.close() }
    let spool = (NSTemporaryDirectory() as NSString).appendingPathComponent(
      "postal-gateway-copy-\(UUID().uuidString)"
    )
    defer { try? FileManager.default.removeItem(atPath: spool) }
    let report = try await PostgresImport.copy(
      from: export,
      scans: stores.blobs,
      to: pool,
      blobs: try PostgresBlobStore(pool: pool, keys: keys, spool: spool)
    ) { line in
      print(line)
      fflush(nil)
    }
    let signer = try directory.custodySigner(
      origin: configuration.custodyOrigin,
      path: configuration.custodyKeyFile
    )
    let finding = try await CustodyLogAudit(
      store: PostgresCustodyStore(pool: pool),
      verifier: try NoteVerifier(signer.verifierKey)
    ).run()
    if let problem = finding.problem {
      print("MISMATCH after the copy: \(problem)")
      throw ExitCode(1)
    }
    let rows = report.rows.map(\.count).reduce(0, +)
    print(
      "copied \(rows) rows and \(report.scans) scans into \(location.redacted); log OK: \(finding.leaves) leaves and \(finding.checkpoints) checkpoints, every node verified"
    )
  }
}
