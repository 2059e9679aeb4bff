import Foundation
import GRDB
import Synchronization
import Testing
import Tracking

@testable import Persistence

/// The batcher behind every SQLite write: writes share a transaction, fail alone, keep their
/// order, and a write alone waits no longer than the configured wait.
@Suite("Group commit")
struct GroupCommitTests {
  let queue: DatabaseQueue
  let commits = CommitCounter()

  init() throws {
    let directory = temporaryTestDirectory("group-commit")
    self.queue = try DatabaseQueue(
      path: (directory as NSString).appendingPathComponent("batch.sqlite")
    )
    try self.queue.write { db in
      try db.execute(
        sql: "CREATE TABLE write (id INTEGER PRIMARY KEY, shipment TEXT NOT NULL, n INTEGER)"
      )
      db.add(transactionObserver: self.commits, extent: .databaseLifetime)
    }
    self.commits.reset()
  }

  /// A committer whose first write waits until the test opens the gate, so that the test
  /// decides which writes share the batch.
  func gatedCommitter(_ gate: Gate, batch: Int = 256) -> GroupCommit {
    GroupCommit(
      writer: self.queue,
      settings: GroupCommitSettings(maximumWait: .milliseconds(1), maximumBatch: batch),
      sleep: { _ in await gate.wait() }
    )
  }

  func rows() throws -> [(shipment: String, n: Int)] {
    try self.queue.read { db in
      try Row.fetchAll(db, sql: "SELECT shipment, n FROM write ORDER BY id").map {
        (shipment: $0["shipment"], n: $0["n"])
      }
    }
  }

  struct Refused: Error {}

  @Test("a write that fails rolls back alone; the writes beside it commit in one transaction")
  func failingWriteFailsAlone() async throws {
    let gate = Gate()
    let committer = self.gatedCommitter(gate)
    let first = Task {
      try await committer.write { db in
        try db.execute(sql: "INSERT INTO write (shipment, n) VALUES ('A', 1)")
      }
    }
    await committer.waitUntilQueued(1)
    let second = Task {
      try await committer.write { db in
        try db.execute(sql: "INSERT INTO write (shipment, n) VALUES ('B', 1)")
        throw Refused()
      }
    }
    await committer.waitUntilQueued(2)
    let third = Task {
      try await committer.write { db in
        try db.execute(sql: "INSERT INTO write (shipment, n) VALUES ('C', 1)")
      }
    }
    await committer.waitUntilQueued(3)
    gate.open()
    try await first.value
    await #expect(throws: Refused.self) { try await second.value }
    try await third.value
    #expect(try self.rows().map(\.shipment) == ["A", "C"])
    #expect(self.commits.count == 1)
  }

  @Test("writes run in the order they were queued, within and across batches")
  func orderIsKept() async throws {
    let gate = Gate()
    // Batches of 7, so that the 60 writes span several transactions.
    let committer = self.gatedCommitter(gate, batch: 7)
    try await withThrowingTaskGroup(of: Void.self) { group in
      for index in 0 ..< 60 {
        let shipment = ["A", "B", "C"][index % 3]
        group.addTask {
          try await committer.write { db in
            // Each write reads its shipment's last number and appends the next one, as a
            // version check does: out of order, the numbers would not match the positions.
            let last =
              try Int.fetchOne(
                db,
                sql: "SELECT max(n) FROM write WHERE shipment = ?",
                arguments: [shipment]
              ) ?? -1
            try db.execute(
              sql: "INSERT INTO write (shipment, n) VALUES (?, ?)",
              arguments: [shipment, last + 1]
            )
          }
        }
        await committer.waitUntilQueued(index + 1)
      }
      gate.open()
      try await group.waitForAll()
    }
    let rows = try self.rows()
    #expect(rows.count == 60)
    for (position, row) in rows.enumerated() {
      #expect(row.shipment == ["A", "B", "C"][position % 3])
      #expect(row.n == position / 3)
    }
    #expect(self.commits.count == 9)  // ⌈60 / 7⌉
  }

  @Test("a write alone waits the configured wait, not longer")
  func lonelyWriteWaitsNoLongerThanConfigured() async throws {
    let clock = ManualClock(Timestamp(microseconds: 1_764_000_000_000_000))
    let start = clock.now()
    let committer = GroupCommit(
      writer: self.queue,
      settings: GroupCommitSettings(maximumWait: .milliseconds(5)),
      sleep: { try await clock.sleep(for: $0) }
    )
    let write = Task {
      try await committer.write { db in
        try db.execute(sql: "INSERT INTO write (shipment, n) VALUES ('A', 1)")
      }
    }
    await clock.waitForSleepers(1)
    #expect(clock.nextDeadline == start.advanced(by: .milliseconds(5)))
    #expect(try self.rows().isEmpty)
    clock.advance(by: .milliseconds(5))
    try await write.value
    #expect(try self.rows().count == 1)
    #expect(self.commits.count == 1)
  }
}

/// Counts the transactions the database committed.
final class CommitCounter: TransactionObserver, Sendable {
  private let commits = Mutex(0)

  var count: Int { self.commits.withLock { $0 } }
  func reset() { self.commits.withLock { $0 = 0 } }

  func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool { true }
  func databaseDidChange(with event: DatabaseEvent) {}
  func databaseDidCommit(_ db: Database) { self.commits.withLock { $0 += 1 } }
  func databaseDidRollback(_ db: Database) {}
}

/// Holds the batcher's first wait until the test opens it.
final class Gate: Sendable {
  private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>(
    (false, [])
  )

  func wait() async {
    await withCheckedContinuation { continuation in
      let resume = self.state.withLock { state -> Bool in
        if state.open { return true }
        state.waiters.append(continuation)
        return false
      }
      if resume { continuation.resume() }
    }
  }

  func open() {
    let waiters = self.state.withLock { state in
      state.open = true
      defer { state.waiters = [] }
      return state.waiters
    }
    for waiter in waiters { waiter.resume() }
  }
}
