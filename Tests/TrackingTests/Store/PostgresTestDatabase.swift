import Foundation
import PostgresNIO
import PostgresStorage
import Testing

/// A fresh database on the test cluster `scripts/postgres-test-cluster.sh` starts (its URL in
/// `POSTAL_GATEWAY_TEST_DATABASE_URL`). Without a cluster the PostgreSQL tests are skipped,
/// unless `POSTAL_GATEWAY_POSTGRES_TESTS=required` (CI), where they fail instead.
enum PostgresTestDatabase {
  /// The cluster's superuser URL, if a cluster runs.
  static let adminURL = ProcessInfo.processInfo.environment["POSTAL_GATEWAY_TEST_DATABASE_URL"]

  /// Whether the tests run: a cluster, or CI insisting on one (they then fail loudly).
  static var enabled: Bool {
    adminURL != nil
      || ProcessInfo.processInfo.environment["POSTAL_GATEWAY_POSTGRES_TESTS"] == "required"
  }

  /// Creates an empty database and returns where it is.
  static func create() async throws -> PostgresLocation {
    guard let adminURL else {
      throw Missing()
    }
    let admin = try PostgresLocation(url: adminURL)
    let name = "test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    let database = try await PostgresPool.open(admin, maximumConnections: 1)
    defer { database.close() }
    try await database.createDatabase(name)
    return admin.database(name)
  }

  /// A new database, migrated, opened as a replica would.
  static func migrated(maximumConnections: Int = 8) async throws -> PostgresPool {
    let database = try await PostgresPool.open(
      try await Self.create(),
      maximumConnections: maximumConnections
    )
    try await PostgresSchema.migrate(database)
    return database
  }

  struct Missing: Error, CustomStringConvertible {
    var description: String {
      "POSTAL_GATEWAY_POSTGRES_TESTS=required but POSTAL_GATEWAY_TEST_DATABASE_URL is not set: run scripts/test.sh, or source scripts/postgres-test-cluster.sh and call postgres_test_cluster_start"
    }
  }
}
