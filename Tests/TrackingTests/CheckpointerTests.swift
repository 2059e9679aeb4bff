import Foundation
import Persistence
import TestProcesses
import Testing
import Tracking

@Suite("Checkpoint signing")
struct CheckpointerTests {
  let path: String
  let stores: Stores
  var store: any CustodyLogStore { self.stores.custody }

  init() throws {
    let directory = temporaryTestDirectory("log")
    self.path = (directory as NSString).appendingPathComponent("log.sqlite")
    self.stores = try SQLiteStorage.open(
      path: self.path,
      blobDirectory: (directory as NSString).appendingPathComponent("scans"),
      keys: TestKeys.shared
    )
  }

  func register(_ key: String) async throws {
    _ = try await Fixture.register(self.stores, key: Fixture.key(key))
  }

  func checkpointSizes() async throws -> [Int64] {
    try await self.store.checkpoints(after: 0, limit: 100).map(\.checkpoint.size)
  }

  @Test("a checkpoint is signed only when the log grew, at most once per interval")
  func cadence() async throws {
    let signer = try NoteSigner(name: "test.example/custody")
    let log = CustodyLog(origin: "test.example/custody", store: self.store)
    let checkpointer = Checkpointer(
      log: log,
      store: self.store,
      signer: signer,
      interval: .seconds(1)
    )
    let t0 = Timestamp(microseconds: 1_000_000_000_000)
    #expect(try await checkpointer.signIfDue(now: t0) == nil, "nothing to sign in an empty log")
    try await self.register("a")
    let first = try #require(try await checkpointer.signIfDue(now: t0))
    #expect(first.checkpoint.size == 1)
    #expect(try NoteVerifier(signer.verifierKey).open(first.note) == first.checkpoint.text)
    try await self.register("b")
    #expect(
      try await checkpointer.signIfDue(now: t0.advanced(by: .milliseconds(500))) == nil,
      "too soon"
    )
    let second = try #require(try await checkpointer.signIfDue(now: t0.advanced(by: .seconds(1))))
    #expect(second.checkpoint.size == 2)
    #expect(
      try await checkpointer.signIfDue(now: t0.advanced(by: .seconds(5))) == nil,
      "the log did not grow"
    )
    try await checkpointer.verifyHistory()
    #expect(try await self.checkpointSizes() == [1, 2])
  }

  @Test("callers asking at once for a checkpoint of the same size get one signature, not a clash")
  func concurrentCallersShareOneSignature() async throws {
    let signer = try NoteSigner(name: "test.example/custody")
    let log = CustodyLog(origin: "test.example/custody", store: self.store)
    let checkpointer = Checkpointer(log: log, store: self.store, signer: signer, interval: .zero)
    try await self.register("a")
    let now = Timestamp(microseconds: 1_000_000_000_000)
    let signed = try await withThrowingTaskGroup(of: Int64.self) { group in
      for index in 0 ..< 20 {
        group.addTask {
          if index.isMultiple(of: 2) {
            return try await checkpointer.signIfDue(now: now)?.checkpoint.size ?? 1
          }
          return try await checkpointer.checkpoint(
            covering: 1,
            clock: ManualClock(now)
          ).checkpoint.size
        }
      }
      return try await group.reduce(into: [Int64]()) { $0.append($1) }
    }
    #expect(signed == Array(repeating: 1, count: 20))
    #expect(try await self.checkpointSizes() == [1])
  }

  @Test("it refuses to sign a tree inconsistent with an earlier checkpoint, and start-up finds it")
  func refusesInconsistency() async throws {
    let signer = try NoteSigner(name: "test.example/custody")
    let log = CustodyLog(origin: "test.example/custody", store: self.store)
    let checkpointer = Checkpointer(log: log, store: self.store, signer: signer)
    for key in ["a", "b", "c"] { try await self.register(key) }
    _ = try await checkpointer.signIfDue(now: Timestamp(microseconds: 0))
    // Rewrite history below the checkpoint: the subtree of leaves 0–1.
    _ = try SQLiteTool.run(
      self.path,
      "DROP TRIGGER custody_node_is_append_only_update; UPDATE custody_node SET hash = zeroblob(32) WHERE level = 1;"
    )
    try await self.register("d")
    await #expect(throws: TrackingError.self) {
      try await checkpointer.signIfDue(now: Timestamp(microseconds: 10_000_000))
    }
    #expect(try await self.checkpointSizes().count == 1, "nothing was signed")
    let restarted = Checkpointer(log: log, store: self.store, signer: signer)
    await #expect(throws: TrackingError.self) { try await restarted.verifyHistory() }
    let audit = try await CustodyLogAudit(
      store: self.store,
      verifier: try NoteVerifier(signer.verifierKey)
    ).run()
    #expect(audit.problem?.contains("level 1") == true)
  }

  @Test("a checkpoint signed by another key is refused at start-up")
  func foreignKey() async throws {
    let log = CustodyLog(origin: "test.example/custody", store: self.store)
    try await self.register("a")
    _ = try await Checkpointer(
      log: log,
      store: self.store,
      signer: try NoteSigner(name: "test.example/custody")
    )
    .signIfDue(now: Timestamp(microseconds: 0))
    let other = Checkpointer(
      log: log,
      store: self.store,
      signer: try NoteSigner(name: "test.example/custody")
    )
    await #expect(throws: TrackingError.self) { try await other.verifyHistory() }
  }
}
