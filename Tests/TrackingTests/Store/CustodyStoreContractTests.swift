import Foundation
import Testing
import Tracking

@Suite("Store contract: custody log")
struct CustodyStoreContractTests {
  /// A log of `count` registrations.
  func log(_ backend: WriteBackend, count: Int) async throws -> WritePath {
    let stores = try await backend.open()
    for index in 0 ..< count {
      _ = try await Fixture.register(stores, key: Fixture.key("r\(index)"))
    }
    return stores
  }

  @Test("leaves, nodes and entries agree with an independent tree", arguments: WriteBackend.all)
  func treeMatchesReference(backend: WriteBackend) async throws {
    let stores = try await self.log(backend, count: 13)
    let log = CustodyLog(origin: "test/custody", store: stores.custody)
    #expect(try await log.treeSize() == 13)
    let entries = try await stores.custody.entries(start: 0, count: 100)
    #expect(entries.count == 13)
    let expected = Self.root(entries.map(RFC6962.leafHash))
    #expect(try await log.root(size: 13) == expected)
    let proof = try await log.inclusionProof(index: 7, size: 13)
    try MerkleVerifier.verifyInclusion(
      index: 7,
      size: 13,
      leafHash: RFC6962.leafHash(entries[7]),
      proof: proof,
      root: expected
    )
  }

  @Test(
    "checkpoints page in order, only grow, and the audit checks them all",
    arguments: WriteBackend.all
  )
  func checkpoints(backend: WriteBackend) async throws {
    let stores = try await self.log(backend, count: 1)
    let signer = try NoteSigner(name: "test/custody")
    let log = CustodyLog(origin: "test/custody", store: stores.custody)
    let checkpointer = Checkpointer(
      log: log,
      store: stores.custody,
      signer: signer,
      interval: .zero
    )
    var time = Timestamp(microseconds: 1_000_000_000_000)
    for index in 1 ..< 6 {
      try #require(try await checkpointer.signIfDue(now: time) != nil)
      _ = try await Fixture.register(stores, key: Fixture.key("more\(index)"))
      time = time.advanced(by: .seconds(1))
    }
    let first = try await stores.custody.checkpoints(after: 0, limit: 2)
    let rest = try await stores.custody.checkpoints(after: first.last!.checkpoint.size, limit: 10)
    #expect((first + rest).map(\.checkpoint.size) == [1, 2, 3, 4, 5])
    #expect(try await stores.custody.latestCheckpoint()?.checkpoint.size == 5)
    await #expect {
      try await stores.custody.save(first[0])
    } throws: { ($0 as? TrackingError)?.code == .failedPrecondition }
    let audit = try await CustodyLogAudit(
      store: stores.custody,
      verifier: NoteVerifier(signer.verifierKey),
      batch: 4
    ).run()
    #expect(audit.problem == nil)
    #expect(audit.leaves == 6)
    #expect(audit.checkpoints == 5)
  }

  @Test("a shipment's leaf indexes follow its events", arguments: WriteBackend.all)
  func leafIndexes(backend: WriteBackend) async throws {
    let stores = try await self.log(backend, count: 2)
    let number = try await Fixture.register(stores, key: Fixture.key("x")).value.shipment
      .trackingNumber
    _ = try await Fixture.append(.collected, to: number, in: stores, key: Fixture.key("y"))
    #expect(try await stores.custody.leafIndexes(of: number) == [2, 3])
    let shipment = try #require(try await stores.shipments.shipment(number))
    #expect(shipment.events.map(\.leafIndex) == [2, 3])
  }

  /// RFC 6962 root by recursion, independent of the store's subtrees.
  static func root(_ leaves: [[UInt8]]) -> [UInt8] {
    if leaves.count == 1 { return leaves[0] }
    var k = 1
    while k * 2 < leaves.count { k *= 2 }
    return RFC6962.nodeHash(Self.root(Array(leaves[..<k])), Self.root(Array(leaves[k...])))
  }
}
