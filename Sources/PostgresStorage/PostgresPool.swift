public import Logging
import NIOSSL
public import PostgresNIO
public import Tracking

/// A pool of connections to one PostgreSQL database (postgres-nio's `PostgresClient`, run by
/// this object), opened only after a first connection proved the server answers and accepts
/// the login: a gateway with a wrong URL or password stops at start with a clear message
/// instead of serving and failing each request.
public final class PostgresPool: Sendable {
  /// Where the database is.
  public let location: PostgresLocation
  let client: PostgresClient
  let logger: Logger
  /// Whether writes succeed: a transaction that fails on the connection or the server (not on
  /// the request) marks the store unwritable until one commits.
  public let health = StoreHealth()
  /// Told how long each transaction took and whether it committed (metrics).
  let observer: (any CommitObserver)?
  private let runner: Task<Void, Never>

  private init(
    location: PostgresLocation,
    client: PostgresClient,
    logger: Logger,
    observer: (any CommitObserver)?
  ) {
    self.location = location
    self.client = client
    self.logger = logger
    self.observer = observer
    // Started at once (not at the executor's leisure): the pool runs before the first lease.
    self.runner = Task.immediate { await client.run() }
  }

  deinit { self.runner.cancel() }

  /// Connects once (to fail early and clearly), then opens the pool.
  /// - Parameters:
  ///   - location: The database.
  ///   - maximumConnections: The pool's size; keep replicas × this below the server's
  ///     `max_connections`.
  ///   - logger: For postgres-nio's background messages (never query arguments).
  /// - Throws: ``PostgresStorageError`` `.unreachable` or `.refused` with the server's reason.
  public static func open(
    _ location: PostgresLocation,
    maximumConnections: Int = 16,
    logger: Logger = Logger(label: "postal-gateway.postgres"),
    observer: (any CommitObserver)? = nil
  ) async throws -> PostgresPool {
    try await Self.probe(location, logger: logger)
    var configuration = PostgresClient.Configuration(
      host: location.host,
      port: location.port,
      username: location.username,
      password: location.password,
      database: location.database,
      tls: try Self.tls(location)
    )
    configuration.options.maximumConnections = maximumConnections
    configuration.options.connectTimeout = .seconds(5)
    return PostgresPool(
      location: location,
      client: PostgresClient(configuration: configuration, backgroundLogger: logger),
      logger: logger,
      observer: observer
    )
  }

  /// Runs `body` in one transaction: committed when it returns, rolled back when it throws.
  public func transaction<Result: Sendable>(
    _ body: (PostgresConnection) async throws -> Result
  ) async throws -> Result {
    let start = ContinuousClock.now
    do {
      let result = try await self.client.withTransaction(logger: self.logger) { connection in
        try await body(connection)
      }
      self.observer?.transactionEnded(duration: start.duration(to: .now), committed: true)
      self.health.recordSuccess()
      return result
    } catch let error as PostgresTransactionError {
      self.observer?.transactionEnded(duration: start.duration(to: .now), committed: false)
      let cause = error.closureError ?? error.beginError ?? error.commitError ?? error
      if Self.meansUnwritable(cause) { self.health.recordFailure(String(describing: cause)) }
      throw cause
    } catch {
      self.observer?.transactionEnded(duration: start.duration(to: .now), committed: false)
      if Self.meansUnwritable(error) { self.health.recordFailure(String(describing: error)) }
      throw error
    }
  }

  /// Whether a failure says the database cannot take writes now (the connection or the server,
  /// not the request): lost connections, a server shutting down, a full disk, read-only.
  static func meansUnwritable(_ error: any Error) -> Bool {
    guard let error = error as? PSQLError else { return false }
    guard let state = error.sqlState else {
      // No answer from the server: the connection failed (not a cancelled query).
      return [.serverClosedConnection, .connectionError, .uncleanShutdown, .clientClosedConnection]
        .contains(error.code)
    }
    // 08 connection exception, 53 insufficient resources (disk full), 57 operator intervention,
    // 58 system error, 25006 read-only transaction.
    return ["08", "53", "57", "58"].contains(String(state.prefix(2))) || state == "25006"
  }

  /// Runs `body` on one pooled connection, outside a transaction.
  public func withConnection<Result: Sendable>(
    _ body: (PostgresConnection) async throws -> Result
  ) async throws -> Result {
    try await self.client.withConnection { connection in try await body(connection) }
  }

  /// Runs one statement (no rows wanted).
  public func execute(_ query: PostgresQuery) async throws {
    try await self.client.query(query, logger: self.logger)
  }

  /// Creates an empty database on the same server (for test and benchmark runs).
  /// - Parameter name: Lower-case letters, digits and underscores.
  public func createDatabase(_ name: String) async throws {
    guard !name.isEmpty,
      name.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_") })
    else {
      throw PostgresStorageError.configuration("\(name) is not a plain database name")
    }
    try await self.execute(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"))
  }

  /// Closes the pool.
  public func close() {
    self.runner.cancel()
  }

  /// One connection, opened and closed, to tell a bad URL, a down server or a wrong password
  /// before anything serves.
  static func probe(_ location: PostgresLocation, logger: Logger) async throws {
    let connection: PostgresConnection
    do {
      connection = try await PostgresConnection.connect(
        configuration: try Self.connectionConfiguration(location),
        id: 0,
        logger: logger
      )
    } catch {
      throw Self.describe(error, location: location)
    }
    do {
      try await connection.query("SELECT 1", logger: logger)
      try await connection.close()
    } catch {
      try? await connection.close()
      throw Self.describe(error, location: location)
    }
  }

  /// A dedicated connection outside the pool (a session whose locks live as long as it does).
  func dedicatedConnection() async throws -> PostgresConnection {
    do {
      return try await PostgresConnection.connect(
        configuration: try Self.connectionConfiguration(self.location),
        id: Int.random(in: 1 ... Int.max),
        logger: self.logger
      )
    } catch {
      throw Self.describe(error, location: self.location)
    }
  }

  static func connectionConfiguration(
    _ location: PostgresLocation
  ) throws -> PostgresConnection.Configuration {
    var configuration = PostgresConnection.Configuration(
      host: location.host,
      port: location.port,
      username: location.username,
      password: location.password,
      database: location.database,
      tls: location.requireTLS
        ? .require(try NIOSSLContext(configuration: .makeClientConfiguration())) : .disable
    )
    configuration.options.connectTimeout = .seconds(5)
    return configuration
  }

  static func tls(_ location: PostgresLocation) throws -> PostgresClient.Configuration.TLS {
    location.requireTLS ? .require(.makeClientConfiguration()) : .disable
  }

  /// An error of postgres-nio in an operator's words (the server's own message for a refusal;
  /// never the password).
  static func describe(_ error: any Error, location: PostgresLocation) -> PostgresStorageError {
    if let error = error as? PostgresStorageError { return error }
    guard let error = error as? PSQLError else {
      return .unreachable("\(location.redacted): \(error)")
    }
    switch error.code {
    case .server:
      let state = error.serverInfo?[.sqlState] ?? ""
      let message = error.serverInfo?[.message] ?? "refused"
      // Class 28: invalid authorization; 3D000: no such database.
      if state.hasPrefix("28") || state == "3D000" {
        return .refused("\(location.redacted): \(message) (SQLSTATE \(state))")
      }
      return .unexpected("\(message) (SQLSTATE \(state))")
    case .authMechanismRequiresPassword:
      return .refused("\(location.redacted): the server asks for a password and none was given")
    case .connectionError, .serverClosedConnection, .sslUnsupported:
      return .unreachable(
        "\(location.redacted): \(error.underlying.map { "\($0)" } ?? "\(error.code)")"
      )
    default:
      return .unexpected("\(error.code)")
    }
  }
}

extension PSQLError {
  /// The SQLSTATE of a server error, if one.
  var sqlState: String? { self.serverInfo?[.sqlState] }
}
