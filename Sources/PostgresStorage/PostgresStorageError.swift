/// Why PostgreSQL storage cannot be used, in words an operator acts on.
public enum PostgresStorageError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The URL or settings are wrong.
  case configuration(String)
  /// The server cannot be reached (down, wrong host or port, refused).
  case unreachable(String)
  /// The server refused the login (wrong password, unknown role or database).
  case refused(String)
  /// The database was migrated by a newer version of the gateway.
  case newerSchema(found: Int, known: Int)
  /// The server answered something this code did not expect.
  case unexpected(String)

  public var description: String {
    switch self {
    case .configuration(let message): "database configuration: \(message)"
    case .unreachable(let message): "the database server cannot be reached: \(message)"
    case .refused(let message): "the database server refused the login: \(message)"
    case .newerSchema(let found, let known):
      "the database has schema version \(found), migrated by a newer postal-gateway (this one knows up to \(known)); upgrade this binary or use another database"
    case .unexpected(let message): "the database: \(message)"
    }
  }
}
