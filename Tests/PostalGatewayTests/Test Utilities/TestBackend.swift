import Foundation
import PostgresStorage
import Synchronization
import Testing

/// Which store the test gateways serve from: SQLite in their data directory (the default), or
/// with `POSTAL_GATEWAY_TEST_GATEWAY_BACKEND=postgres` a fresh PostgreSQL database per data
/// directory on the test cluster (`POSTAL_GATEWAY_TEST_DATABASE_URL`), so the end-to-end suites
/// run unchanged against the scale-out backend. A gateway restarted on the same data directory
/// finds the same database.
enum TestBackend {
  static let usesPostgres =
    ProcessInfo.processInfo.environment["POSTAL_GATEWAY_TEST_GATEWAY_BACKEND"] == "postgres"

  private static let databases = Mutex<[String: String]>([:])

  /// The database URL for a gateway on `dataDirectory`, or `nil` on SQLite.
  static func databaseURL(for dataDirectory: String) async throws -> String? {
    guard Self.usesPostgres else { return nil }
    if let url = Self.databases.withLock({ $0[dataDirectory] }) { return url }
    guard let admin = ProcessInfo.processInfo.environment["POSTAL_GATEWAY_TEST_DATABASE_URL"]
    else {
      throw Missing()
    }
    let name = "gw_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    let pool = try await PostgresPool.open(try PostgresLocation(url: admin), maximumConnections: 1)
    defer { pool.close() }
    try await pool.createDatabase(name)
    var components = URLComponents(string: admin)!
    components.path = "/" + name
    let url = components.string!
    Self.databases.withLock { $0[dataDirectory] = url }
    return url
  }

  struct Missing: Error, CustomStringConvertible {
    var description: String {
      "POSTAL_GATEWAY_TEST_GATEWAY_BACKEND=postgres needs POSTAL_GATEWAY_TEST_DATABASE_URL (source scripts/postgres-test-cluster.sh and call postgres_test_cluster_start)"
    }
  }
}

extension Trait where Self == ConditionTrait {
  /// A test that reads or changes the SQLite file or the scans folder itself (tampering,
  /// backups, what is at rest on disk): not run against the PostgreSQL backend, whose tests
  /// cover the same at the store level.
  static var sqliteOnly: Self {
    .disabled(if: TestBackend.usesPostgres, "inspects the SQLite file or scans folder")
  }
}
