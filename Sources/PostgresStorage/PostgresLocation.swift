public import Foundation

/// Where a PostgreSQL database is: a `postgres://user:password@host:port/database` URL, as
/// libpq and every PostgreSQL tool write it. The password may instead come from the
/// `PGPASSWORD` environment variable, so it need not appear in a configuration file.
public struct PostgresLocation: Sendable, Hashable {
  /// The server's host name or address.
  public var host: String
  /// The server's port.
  public var port: Int
  /// The role to log in as.
  public var username: String
  /// The role's password, if the server asks for one.
  public var password: String?
  /// The database.
  public var database: String
  /// Whether to insist on TLS (`sslmode=require`).
  public var requireTLS: Bool

  /// Reads a `postgres://` (or `postgresql://`) URL.
  /// - Parameters:
  ///   - text: The URL.
  ///   - environment: Where `PGPASSWORD` is looked up when the URL has no password.
  /// - Throws: ``PostgresStorageError`` naming what is wrong with the URL.
  public init(
    url text: String,
    environment: [String: String] = ProcessInfo.processInfo.environment
  ) throws {
    guard let components = URLComponents(string: text),
      ["postgres", "postgresql"].contains(components.scheme ?? "")
    else {
      throw PostgresStorageError.configuration(
        "the database URL must look like postgres://user:password@host:5432/database"
      )
    }
    guard let host = components.host, !host.isEmpty else {
      throw PostgresStorageError.configuration("the database URL has no host")
    }
    guard let user = components.user, !user.isEmpty else {
      throw PostgresStorageError.configuration("the database URL has no user name")
    }
    let database = String(components.path.drop(while: { $0 == "/" }))
    guard !database.isEmpty else {
      throw PostgresStorageError.configuration("the database URL has no database name")
    }
    var requireTLS = false
    for item in components.queryItems ?? [] where item.name == "sslmode" {
      switch item.value {
      case "disable", "allow", "prefer": requireTLS = false
      case "require", "verify-ca", "verify-full": requireTLS = true
      default:
        throw PostgresStorageError.configuration(
          "sslmode must be disable, prefer, require, verify-ca or verify-full"
        )
      }
    }
    self.host = host
    self.port = components.port ?? 5432
    self.username = user.removingPercentEncoding ?? user
    self.password =
      components.password.map { $0.removingPercentEncoding ?? $0 } ?? environment["PGPASSWORD"]
    self.database = database
    self.requireTLS = requireTLS
  }

  /// The same server and role, another database.
  public func database(_ name: String) -> PostgresLocation {
    var other = self
    other.database = name
    return other
  }

  /// The URL without its password, for messages and logs.
  public var redacted: String {
    "postgres://\(self.username)@\(self.host):\(self.port)/\(self.database)"
  }
}
