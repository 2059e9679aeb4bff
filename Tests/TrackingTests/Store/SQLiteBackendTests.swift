import Foundation
import Persistence
import TestProcesses
import Testing
import Tracking

/// What only the SQLite backend promises: durable settings, a schema that refuses edits, and a
/// refusal to open a file a newer version migrated.
@Suite("SQLite backend")
struct SQLiteBackendTests {
  let directory = temporaryTestDirectory("sqlite")
  var path: String { (self.directory as NSString).appendingPathComponent("test.sqlite") }

  func open() throws -> Stores {
    try SQLiteStorage.open(
      path: self.path,
      blobDirectory: (self.directory as NSString).appendingPathComponent("scans"),
      keys: TestKeys.shared
    )
  }

  @Test("commits are durable: WAL with synchronous = FULL")
  func durableSettings() throws {
    _ = try self.open()
    let (synchronous, mode) = try SQLiteStorage.durability(path: self.path)
    #expect(mode == "wal")
    #expect(synchronous == 2)
  }

  @Test(
    "events, leaves, nodes, checkpoints and the access audit are append-only in the schema itself"
  )
  func appendOnly() async throws {
    let stores = try self.open()
    let registered = try await Fixture.register(stores, key: Fixture.key("a"))
    try await AccessAuditor(store: stores.accessAudit).record(
      .shipment,
      of: [registered.value.shipment.trackingNumber],
      by: "spiffe://test/staff/a",
      purpose: "test",
      now: Timestamp(microseconds: 1)
    )
    for sql in [
      "UPDATE shipment_event SET note = 'x'", "DELETE FROM shipment_event",
      "UPDATE custody_leaf SET data = x'00'", "DELETE FROM custody_node",
      "UPDATE access_audit SET purpose = 'x'", "DELETE FROM access_audit",
    ] {
      let result = try SQLiteTool.run(self.path, sql)
      #expect(result.contains("append-only"), "\(sql): \(result)")
    }
  }

  @Test("a database migrated by a newer version is refused with a message that says so")
  func newerSchema() throws {
    _ = try self.open()
    _ = try SQLiteTool.run(
      self.path,
      "INSERT INTO grdb_migrations (identifier) VALUES ('v99: from the future')"
    )
    #expect {
      try self.open()
    } throws: {
      ($0 as? TrackingError)?.code == .failedPrecondition
        && ($0 as? TrackingError)?.message.contains("newer version") == true
    }
  }
}
