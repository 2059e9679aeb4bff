import ArgumentParser
import Foundation
import PostgresStorage

/// `postal-gateway db migrate|version`: the PostgreSQL database a scaled-out deployment shares.
struct DatabaseCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "db",
    abstract: "The shared PostgreSQL database: migrate it, or show its schema version.",
    discussion: """
      The embedded default is SQLite in the data directory and needs none of this. PostgreSQL \
      is the scale-out backend (issue 18, in progress: its schema holds the custody log's \
      sequencer and checkpoints so far; the gateway does not serve from it yet).
      """,
    subcommands: [DatabaseMigrateCommand.self, DatabaseVersionCommand.self]
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
