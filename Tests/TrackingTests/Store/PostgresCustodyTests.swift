import Foundation
import PostgresNIO
import PostgresStorage
import Testing
import Tracking

/// The custody log on PostgreSQL, shared by replicas (issue 18's sequencing and single signer),
/// on a real PostgreSQL server: contiguous indexes under concurrent appends from two replicas,
/// checkpoints that only grow, append-only tables, the signer's lease, and the migrations.
@Suite(
  "PostgreSQL: custody log, signer lease, migrations",
  .enabled(if: PostgresTestDatabase.enabled)
)
struct PostgresCustodyTests {
  /// Leaves of made-up events for shipment `serial`.
  static func leaves(_ count: Int, serial: Int) -> (TrackingNumber, [CustodyLeaf]) {
    let number = TrackingNumber(serviceIndicator: Fixture.indicator, serial: serial)
    return (
      number,
      (1 ... count).map { sequence in
        CustodyLeaf(eventSequence: sequence, data: Array("\(number.rawValue)#\(sequence)".utf8))
      }
    )
  }

  /// One transaction appending `leaves`, as a replica's write would.
  static func append(
    _ leaves: [CustodyLeaf],
    of number: TrackingNumber,
    on database: PostgresPool,
    rollBack: Bool = false
  ) async throws -> [Int64] {
    struct RolledBack: Error {}
    do {
      return try await database.transaction { connection in
        let indexes = try await PostgresCustodyStore.append(
          leaves,
          of: number,
          on: connection,
          logger: .init(label: "test")
        )
        if rollBack { throw RolledBack() }
        return indexes
      }
    } catch is RolledBack {
      return []
    }
  }

  @Test(
    "appends from two replicas at once get contiguous indexes, a rolled-back append leaves no gap, and the tree matches an independent one"
  )
  func concurrentAppendsAreContiguous() async throws {
    let first = try await PostgresTestDatabase.migrated()
    let second = try await PostgresPool.open(first.location, maximumConnections: 8)
    defer {
      first.close()
      second.close()
    }
    let results = try await withThrowingTaskGroup(of: (TrackingNumber, [Int64]).self) { group in
      for serial in 0 ..< 60 {
        group.addTask {
          let (number, leaves) = Self.leaves(1 + serial % 3, serial: serial)
          let replica = serial.isMultiple(of: 2) ? first : second
          let indexes = try await Self.append(
            leaves,
            of: number,
            on: replica,
            rollBack: serial % 7 == 3
          )
          return (number, indexes)
        }
      }
      return try await group.reduce(into: [(TrackingNumber, [Int64])]()) { $0.append($1) }
    }
    let committed = (0 ..< 60).filter { $0 % 7 != 3 }.map { 1 + $0 % 3 }.reduce(0, +)
    let all = results.flatMap(\.1).sorted()
    #expect(all == Array(0 ..< Int64(committed)))
    for (_, indexes) in results where !indexes.isEmpty {
      // One append's leaves are consecutive: the sequencer hands out a block.
      #expect(indexes == Array(indexes[0] ..< indexes[0] + Int64(indexes.count)))
    }
    let store = PostgresCustodyStore(pool: second)
    #expect(try await store.treeSize() == Int64(committed))
    let entries = try await store.entries(start: 0, count: 1000)
    #expect(entries.count == committed)
    let log = CustodyLog(origin: "test/custody", store: store)
    #expect(
      try await log.root(size: Int64(committed))
        == CustodyStoreContractTests.root(entries.map(RFC6962.leafHash))
    )
    let proof = try await log.inclusionProof(index: 5, size: Int64(committed))
    try MerkleVerifier.verifyInclusion(
      index: 5,
      size: Int64(committed),
      leafHash: RFC6962.leafHash(entries[5]),
      proof: proof,
      root: try await log.root(size: Int64(committed))
    )
    let (number, indexes) = try #require(results.first { !$0.1.isEmpty })
    #expect(try await store.leafIndexes(of: number) == indexes)
  }

  @Test(
    "checkpoints only grow and never pass the tree; the audit checks them all; the database refuses to change a leaf"
  )
  func checkpointsAndAppendOnly() async throws {
    let database = try await PostgresTestDatabase.migrated()
    defer { database.close() }
    let store = PostgresCustodyStore(pool: database)
    let signer = try NoteSigner(name: "test/custody")
    let log = CustodyLog(origin: "test/custody", store: store)
    let checkpointer = Checkpointer(log: log, store: store, signer: signer, interval: .zero)
    var time = Timestamp(microseconds: 1_000_000_000_000)
    for serial in 0 ..< 5 {
      let (number, leaves) = Self.leaves(2, serial: serial)
      _ = try await Self.append(leaves, of: number, on: database)
      try #require(try await checkpointer.signIfDue(now: time) != nil)
      time = time.advanced(by: .seconds(1))
    }
    let stored = try await store.checkpoints(after: 0, limit: 10)
    #expect(stored.map(\.checkpoint.size) == [2, 4, 6, 8, 10])
    #expect(try await store.latestCheckpoint() == stored.last)
    await #expect {
      try await store.save(stored[0])
    } throws: { ($0 as? TrackingError)?.code == .failedPrecondition }
    // A checkpoint of a size the tree has not reached is refused too.
    let beyond = Checkpoint(origin: "test/custody", size: 11, root: Array(repeating: 0, count: 32))
    await #expect {
      try await store.save(
        SignedCheckpoint(checkpoint: beyond, note: try signer.sign(beyond.text), signedAt: time)
      )
    } throws: { ($0 as? TrackingError)?.code == .failedPrecondition }
    let audit = try await CustodyLogAudit(
      store: store,
      verifier: NoteVerifier(signer.verifierKey),
      batch: 3
    ).run()
    #expect(audit.problem == nil && audit.leaves == 10 && audit.checkpoints == 5)

    for statement in [
      "UPDATE custody_leaf SET data = 'x' WHERE leaf_index = 0",
      "DELETE FROM custody_node",
      "DELETE FROM custody_checkpoint",
      "TRUNCATE custody_leaf",
      "DELETE FROM custody_tree",
    ] {
      await #expect(throws: (any Error).self, "\(statement)") {
        try await database.execute(PostgresQuery(unsafeSQL: statement))
      }
    }
    #expect(try await store.entries(start: 0, count: 1) == [Array("EA000000005VN#1".utf8)])
  }

  @Test(
    "one replica holds the signer's lease; when its session dies another takes it over at once"
  )
  func signerLease() async throws {
    let first = try await PostgresTestDatabase.migrated()
    let second = try await PostgresPool.open(first.location, maximumConnections: 2)
    defer {
      first.close()
      second.close()
    }
    let a = PostgresSignerLease(pool: first)
    let b = PostgresSignerLease(pool: second)
    #expect(await a.holds())
    #expect(!(await b.holds()))
    #expect(await a.holds(), "the holder keeps it")
    // The holder's session ends as a killed replica's would: the server drops it.
    try await second.execute(
      """
      SELECT pg_terminate_backend(pid) FROM pg_locks
      WHERE locktype = 'advisory' AND granted AND objsubid = 1
        AND ((classid::bigint << 32) | objid::bigint) = 7400180002
      """
    )
    #expect(await b.holds(), "the lease moved to the other replica")
    #expect(!(await a.holds()), "the old holder learns it lost the lease")
    await b.release()
    #expect(await a.holds(), "a released lease is free at once")
    await a.release()
  }

  @Test(
    "replicas starting together migrate once; a database migrated by a newer gateway is refused"
  )
  func migrations() async throws {
    let location = try await PostgresTestDatabase.create()
    let replicas = try await withThrowingTaskGroup(of: PostgresPool.self) { group in
      for _ in 0 ..< 3 {
        group.addTask { try await PostgresPool.open(location, maximumConnections: 2) }
      }
      return try await group.reduce(into: [PostgresPool]()) { $0.append($1) }
    }
    defer { for replica in replicas { replica.close() } }
    let outcomes = try await withThrowingTaskGroup(of: (from: Int, to: Int).self) { group in
      for replica in replicas { group.addTask { try await PostgresSchema.migrate(replica) } }
      return try await group.reduce(into: [(from: Int, to: Int)]()) { $0.append($1) }
    }
    #expect(outcomes.filter { $0.from == 0 }.count == 1, "one replica migrated")
    #expect(outcomes.allSatisfy { $0.to == PostgresSchema.latest })
    #expect(try await PostgresSchema.version(of: replicas[0]) == PostgresSchema.latest)
    #expect(try await PostgresCustodyStore(pool: replicas[1]).treeSize() == 0)

    let newer = PostgresSchema.latest + 1
    try await replicas[0].execute(
      "INSERT INTO schema_migration (version, purpose) VALUES (\(newer), 'from the future')"
    )
    await #expect(
      throws: PostgresStorageError.newerSchema(found: newer, known: PostgresSchema.latest)
    ) {
      try await PostgresSchema.check(replicas[1])
    }
    await #expect(
      throws: PostgresStorageError.newerSchema(found: newer, known: PostgresSchema.latest)
    ) {
      try await PostgresSchema.migrate(replicas[2])
    }
  }

  @Test("a wrong password, a missing database and a server that is not there fail with the reason")
  func badLocations() async throws {
    let location = try await PostgresTestDatabase.create()
    var wrong = location
    wrong.password = "not-the-password"
    await #expect {
      try await PostgresPool.open(wrong)
    } throws: { error in
      guard case .refused(let message) = error as? PostgresStorageError else { return false }
      return message.contains("password authentication failed")
        && !message.contains("not-the-password")
    }
    await #expect {
      try await PostgresPool.open(location.database("no_such_database"))
    } throws: { error in
      guard case .refused(let message) = error as? PostgresStorageError else { return false }
      return message.contains("no_such_database")
    }
    var nowhere = location
    nowhere.port = try Self.closedPort()
    await #expect {
      try await PostgresPool.open(nowhere)
    } throws: { error in
      if case .unreachable = error as? PostgresStorageError { return true }
      return false
    }
    #expect(throws: PostgresStorageError.self) { try PostgresLocation(url: "mysql://x@y/z") }
    #expect(throws: PostgresStorageError.self) { try PostgresLocation(url: "postgres://u@h") }
  }

  /// A port nobody listens on: bound, never listening, so nothing else takes it meanwhile.
  static func closedPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
      }
    }
    guard bound else { throw POSIXError(.EADDRNOTAVAIL) }
    // Left open for the test's life: the port stays taken and refuses connections.
    return Int(UInt16(bigEndian: address.sin_port))
  }
}

/// Commits announced across replicas by LISTEN/NOTIFY (issue 18 item 5).
@Suite(
  "PostgreSQL: commit notifications across replicas",
  .enabled(if: PostgresTestDatabase.enabled)
)
struct PostgresChangeListenerTests {
  @Test(
    "a commit on one replica wakes a waiter on the other; a rolled-back write announces nothing; a lost session is resumed"
  )
  func commitsReachOtherReplicas() async throws {
    let a = try await PostgresTestDatabase.migrated()
    let b = try await PostgresPool.open(a.location, maximumConnections: 2)
    defer {
      a.close()
      b.close()
    }
    let feed = ChangeFeed()
    let listener = PostgresChangeListener(pool: b, feed: feed)
    let listening = Task { await listener.run() }
    defer { listening.cancel() }
    await listener.waitUntilListening()

    // A write that rolls back first, then one that commits: notifications arrive in commit
    // order, so once the second is seen the first would have been, had it been sent.
    let before = feed.position()
    let (number, leaves) = PostgresCustodyTests.leaves(1, serial: 1)
    struct RolledBack: Error {}
    /// A write on replica A that appends `leaves` (if any) and announces `topics`.
    func write(
      _ topics: Set<StoreTopic>,
      leaves: [CustodyLeaf] = [],
      rollBack: Bool = false
    )
      async throws
    {
      try await a.transaction { connection in
        _ = try await PostgresCustodyStore.append(
          leaves,
          of: number,
          on: connection,
          logger: .init(label: "test")
        )
        try await PostgresChangeListener.notify(
          topics,
          on: connection,
          logger: .init(label: "test")
        )
        if rollBack { throw RolledBack() }
      }
    }
    await #expect(throws: RolledBack.self) {
      try await write([.custodyLog], leaves: leaves, rollBack: true)
    }
    try await write([.outbox, .alerts])
    await feed.wait(for: [.outbox], after: before)
    #expect(feed.hasChanged([.alerts], since: before))
    #expect(!feed.hasChanged([.custodyLog], since: before), "the rolled-back write said nothing")

    let committed = feed.position()
    try await write([.custodyLog], leaves: leaves)
    await feed.wait(for: [.custodyLog], after: committed)

    // The server drops the listener's session: it reconnects and wakes every waiter once.
    let dropped = feed.position()
    try await a.execute(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%'"
    )
    await feed.wait(for: [.hops], after: dropped)
    #expect(StoreTopic.allCases.allSatisfy { feed.hasChanged([$0], since: dropped) })
    let resumed = feed.position()
    try await write([.notifications])
    await feed.wait(for: [.notifications], after: resumed)
  }
}

/// The shipment store on PostgreSQL with two replicas on one database (issue 18 items 1–2).
@Suite("PostgreSQL: shipments from two replicas", .enabled(if: PostgresTestDatabase.enabled))
struct PostgresReplicaWriteTests {
  @Test(
    "two replicas registering at once mint distinct numbers, a key sent to both is written once, and the log stays contiguous"
  )
  func replicasShareOneDatabase() async throws {
    let location = try await PostgresTestDatabase.create()
    let replicas = [
      try await WriteBackend.postgresReplica(at: location),
      try await WriteBackend.postgresReplica(at: location),
    ]
    let outcomes = try await withThrowingTaskGroup(
      of: StoreOutcome<RegisteredShipment>.self
    ) { group in
      for index in 0 ..< 40 {
        group.addTask {
          // Keys 0–9 are each sent to both replicas; the rest once.
          let key = try Fixture.key("k\(index % 30)")
          return try await Fixture.register(replicas[index % 2], key: key)
        }
      }
      return try await group.reduce(into: [StoreOutcome<RegisteredShipment>]()) { $0.append($1) }
    }
    let written = outcomes.filter { !$0.isReplay }
    #expect(written.count == 30)
    #expect(outcomes.filter(\.isReplay).count == 10)
    let serials = written.map(\.value.shipment.trackingNumber.serial).sorted()
    #expect(serials == Array(0 ..< 30))
    for replay in outcomes where replay.isReplay {
      #expect(written.contains { $0.value.shipment == replay.value.shipment })
    }
    #expect(try await replicas[1].custody.treeSize() == 30)
    let indexes = written.flatMap { $0.value.shipment.events.compactMap(\.leafIndex) }.sorted()
    #expect(indexes == Array(0 ..< 30))
    // What one replica wrote, the other reads, personal data opened with the same keys.
    let number = written[0].value.shipment.trackingNumber
    #expect(
      try await replicas[1].shipments.shipment(number)?.applicant
        == written[0].value.shipment.applicant
    )
  }
}

/// The handoff outbox shared by two replicas' dispatchers (issue 18 item 4).
@Suite("PostgreSQL: the outbox shared by replicas", .enabled(if: PostgresTestDatabase.enabled))
struct PostgresSharedOutboxTests {
  @Test(
    "replicas claim disjoint due handoffs; a dead replica's claims come back when its lease runs out; a recorded attempt frees one at once"
  )
  func claimsAreShared() async throws {
    let location = try await PostgresTestDatabase.create()
    let a = try await WriteBackend.postgresReplica(at: location, lease: .seconds(60))
    let b = try await WriteBackend.postgresReplica(at: location, lease: .seconds(60))
    let agency = try AgencyCode(validating: "000.00.00.H55")
    let t0 = OutboxAndSlaContractTests.t0
    for index in 0 ..< 12 {
      let number = try await Fixture.register(a, key: Fixture.key("r\(index)")).value.shipment
        .trackingNumber
      let stored = try #require(try await a.shipments.shipmentWithCommitment(number))
      var write = Fixture.writer.write(
        appending: [try Fixture.event(.collected, after: stored.shipment)],
        to: stored,
        idempotencyKey: nil,
        now: t0
      )
      write.outbox = [.queue(HandoffTicket(handoffID: "\(number)-H1", agency: agency, mode: .push))]
      _ = try await (index.isMultiple(of: 2) ? a : b).shipments.commit(write)
    }

    // Both dispatchers ask at once: every handoff goes to exactly one of them.
    let claims = try await withThrowingTaskGroup(of: (Int, [String]).self) { group in
      for (index, replica) in [a, b].enumerated() {
        group.addTask {
          (
            index,
            try await replica.handoffs.dueHandoffs(agency: agency, now: t0, limit: 6).map(\.id)
          )
        }
      }
      return try await group.reduce(into: [Int: [String]]()) { $0[$1.0] = $1.1 }
    }
    let claimedByA = Set(claims[0] ?? [])
    let claimedByB = Set(claims[1] ?? [])
    #expect(claimedByA.isDisjoint(with: claimedByB))
    #expect(claimedByA.count + claimedByB.count == 12)

    // Replica B stops answering (its claims stay): A sees B's handoffs due when the lease ends.
    let aHolds = try await a.handoffs.dueHandoffs(agency: agency, now: t0, limit: 20).map(\.id)
    #expect(Set(aHolds) == claimedByA, "a replica keeps getting its own claims")
    let leaseEnd = t0.advanced(by: .seconds(60))
    #expect(try await a.handoffs.nextAttemptTime(agency: agency) == t0)
    let afterLease = try await a.handoffs.dueHandoffs(agency: agency, now: leaseEnd, limit: 20)
    #expect(Set(afterLease.map(\.id)) == claimedByA.union(claimedByB))
    #expect(try await b.handoffs.dueHandoffs(agency: agency, now: leaseEnd, limit: 20).isEmpty)

    // A failed attempt hands the row back at its next attempt time, to whoever asks first.
    let first = try #require(afterLease.first)
    try await a.handoffs.recordFailedAttempt(
      id: first.id,
      at: leaseEnd,
      error: "refused",
      nextAttemptAt: leaseEnd.advanced(by: .seconds(5)),
      deadLetter: false
    )
    let retry = try await b.handoffs.dueHandoffs(
      agency: agency,
      now: leaseEnd.advanced(by: .seconds(5)),
      limit: 20
    )
    #expect(retry.map(\.id) == [first.id])
    #expect(retry.first?.attempts == 1)
  }
}
