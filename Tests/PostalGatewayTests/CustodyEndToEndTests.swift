import Crypto
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Persistence
import Proto
import SwiftProtobuf
import TestProcesses
import Testing
import Tracking

@testable import PostalGateway

/// The custody log end to end: entries from a real lifecycle, receipts checked offline by the
/// CLI's verifier and by an independent Python script, forged handovers refused, tampering found.
@Suite("Custody log end to end")
struct CustodyEndToEndTests {
  let pki = TestPKI.shared

  /// Registers, collects, scans, dispatches and hands a shipment over to the agency.
  static func shipmentAtAgency(
    _ gateway: RunningGateway,
    keys: HandoverKeys,
    at handedOver: Google_Protobuf_Timestamp? = nil
  ) async throws -> Postalgateway_V1_RegisterPickupResponse {
    try await gateway.withPartnerClient(TestPKI.shared.staff) { counter in
      let registered = try await counter.registerPickup(samplePickup())
      let number = registered.shipment.trackingNumber
      _ = try await counter.recordCollection(collectionRequest(number))
      _ = try await upload(
        counter,
        number: number,
        documentID: "TO_KHAI",
        bytes: pdfBytes(5000, seed: 1)
      )
      _ = try await upload(
        counter,
        number: number,
        documentID: "GIAY_TO_TUY_THAN",
        bytes: pdfBytes(5000, seed: 2)
      )
      let dispatched = try await counter.recordEvent(eventRequest(number, .dispatched))
      var handover = eventRequest(number, .handedToAgency)
      // Now, after the registration above, unless the caller's clock says otherwise.
      handover.occurredAt = handedOver ?? nowTimestamp()
      handover.handover = try keys.handover(
        dispatched.shipment,
        kind: .handedToAgency,
        occurredAt: handover.occurredAt
      )
      _ = try await counter.recordEvent(handover)
      return registered
    }
  }

  static func receipt(
    _ gateway: RunningGateway,
    _ registered: Postalgateway_V1_RegisterPickupResponse
  ) async throws
    -> Postalgateway_V1_Receipt
  {
    try await gateway.withClient(port: gateway.publicPort, credential: nil) { client in
      try await Postalgateway_V1_CustodyService.Client(wrapping: client).getReceipt(
        .with {
          $0.trackingNumber = registered.shipment.trackingNumber
          $0.verificationCode = registered.verificationCode
        }
      )
    }
  }

  @Test(
    "a lifecycle's receipt verifies offline with the CLI's verifier and an independent Python verifier"
  )
  func receiptVerifiesOffline() async throws {
    try await withTestGateway { gateway in
      let keys = HandoverKeys()
      try await keys.register(on: gateway)
      let registered = try await Self.shipmentAtAgency(gateway, keys: keys)
      let receipt = try await Self.receipt(gateway, registered)
      // Registration, collection, two scans, DIGITIZED, dispatch, handover.
      #expect(receipt.entries.count == 7)
      let key = gateway.gateway.verifierKey
      #expect(try ReceiptVerifier.verify(receipt, verifierKey: key).hasPrefix("receipt OK"))

      var options = JSONEncodingOptions()
      options.preserveProtoFieldNames = true
      let file = (gateway.dataDirectory as NSString).appendingPathComponent("receipt.json")
      try Data(try receipt.jsonString(options: options).utf8).write(to: URL(fileURLWithPath: file))
      let (status, output) = try runPython(["Tests/interop/verify_receipt.py", file, key])
      #expect(status == 0, "\(output)")
      #expect(output.hasPrefix("OK 7 entries"))

      // A receipt changed in any way no longer verifies, for either verifier.
      var altered = receipt
      altered.entries[3].data[40] ^= 1
      #expect(throws: (any Error).self) { try ReceiptVerifier.verify(altered, verifierKey: key) }
      try Data(try altered.jsonString(options: options).utf8).write(to: URL(fileURLWithPath: file))
      #expect(try runPython(["Tests/interop/verify_receipt.py", file, key]).0 != 0)
      var otherLog = receipt
      otherLog.checkpoint = try NoteSigner(name: "elsewhere/custody").sign(
        noteText(receipt.checkpoint)
      )
      #expect(throws: (any Error).self) { try ReceiptVerifier.verify(otherLog, verifierKey: key) }

      // The citizen's view links to the log.
      let tracked = try await gateway.withCitizenClient {
        try await $0.trackShipment(
          .with {
            $0.trackingNumber = registered.shipment.trackingNumber
            $0.verificationCode = registered.verificationCode
          }
        )
      }
      #expect(tracked.shipment.custodyLeafIndexes == receipt.entries.map(\.leafIndex))
    }
  }

  @Test("log entries carry no personal data in clear")
  func entriesHoldNoPersonalData() async throws {
    try await withTestGateway { gateway in
      let keys = HandoverKeys()
      try await keys.register(on: gateway)
      let registered = try await Self.shipmentAtAgency(gateway, keys: keys)
      let entries = try await gateway.withClient(port: gateway.publicPort, credential: nil) {
        client in
        try await Postalgateway_V1_CustodyService.Client(wrapping: client).getEntries(
          .with {
            $0.start = 0
            $0.count = 100
          }
        )
      }.entries
      #expect(entries.count == 7)
      let text = entries.map { String(decoding: $0, as: UTF8.self) }.joined()
      for secret in [
        "019084000123", "Nguyễn", "0912345678", "+84912345678", "Lương Ngọc Quyến",
        registered.shipment.trackingNumber,
      ] {
        #expect(!text.contains(secret), "the public log shows \(secret)")
      }
    }
  }

  @Test("a handover with a forged receiver signature is refused and appends nothing")
  func forgedHandoverIsRefused() async throws {
    try await withTestGateway { gateway in
      let keys = HandoverKeys()
      try await keys.register(on: gateway)
      try await gateway.withPartnerClient(self.pki.staff) { counter in
        let number = try await counter.registerPickup(samplePickup()).shipment.trackingNumber
        _ = try await counter.recordCollection(collectionRequest(number))
        let dispatched = try await counter.recordEvent(eventRequest(number, .dispatched))
        let size = try await gateway.gateway.checkpointerLogSize()

        var forged = eventRequest(number, .handedToAgency)
        forged.occurredAt = nowTimestamp()
        forged.handover = try keys.handover(
          dispatched.shipment,
          kind: .handedToAgency,
          occurredAt: forged.occurredAt,
          forgeReceiver: true
        )
        let refused = await rpcError { _ = try await counter.recordEvent(forged) }
        #expect(refused?.code == .permissionDenied)

        var unsigned = eventRequest(number, .handedToAgency)
        unsigned.occurredAt = nowTimestamp()
        let missing = await rpcError { _ = try await counter.recordEvent(unsigned) }
        #expect(missing?.code == .invalidArgument)

        var stale = eventRequest(number, .handedToAgency)
        stale.occurredAt = nowTimestamp()
        // A second earlier: two readings of the clock can fall in the same microsecond.
        stale.handover = try keys.handover(
          dispatched.shipment,
          kind: .handedToAgency,
          occurredAt: Google_Protobuf_Timestamp(
            seconds: stale.occurredAt.seconds - 1,
            nanos: stale.occurredAt.nanos
          )
        )
        #expect(
          await rpcError { _ = try await counter.recordEvent(stale) }?.code == .permissionDenied,
          "a signature over another time does not verify"
        )

        #expect(try await gateway.gateway.checkpointerLogSize() == size)
        let shipment = try await counter.getShipment(.with { $0.trackingNumber = number })
        #expect(shipment.state == .inTransit)
      }
    }
  }

  @Test("proofs served over gRPC verify; bad sizes are INVALID_ARGUMENT")
  func proofsOverTheWire() async throws {
    try await withTestGateway { gateway in
      let keys = HandoverKeys()
      try await keys.register(on: gateway)
      let first = try await Self.shipmentAtAgency(gateway, keys: keys)
      let early = try await Self.receipt(gateway, first)
      let second = try await Self.shipmentAtAgency(gateway, keys: keys)
      let later = try await Self.receipt(gateway, second)
      let key = try NoteVerifier(gateway.gateway.verifierKey)
      let old = try Checkpoint(text: key.open(early.checkpoint))
      let new = try Checkpoint(text: key.open(later.checkpoint))
      #expect(old.size == 7 && new.size == 14)
      try await gateway.withClient(port: gateway.publicPort, credential: nil) { client in
        let custody = Postalgateway_V1_CustodyService.Client(wrapping: client)
        let consistency = try await custody.getConsistencyProof(
          .with {
            $0.firstSize = old.size
            $0.secondSize = new.size
          }
        )
        try MerkleVerifier.verifyConsistency(
          size1: old.size,
          size2: new.size,
          proof: consistency.hashes.map { Array($0) },
          root1: old.root,
          root2: new.root
        )
        let entry = try await custody.getEntries(
          .with {
            $0.start = 9
            $0.count = 1
          }
        ).entries[0]
        let inclusion = try await custody.getInclusionProof(.with { $0.leafIndex = 9 })
        #expect(inclusion.treeSize == new.size)
        try MerkleVerifier.verifyInclusion(
          index: 9,
          size: new.size,
          leafHash: RFC6962.leafHash(Array(entry)),
          proof: inclusion.hashes.map { Array($0) },
          root: new.root
        )
        let checkpoint = try await custody.getCheckpoint(.init())
        #expect(checkpoint.treeSize == new.size)
        for request: Postalgateway_V1_GetInclusionProofRequest in [
          .with {
            $0.leafIndex = 14
            $0.treeSize = 14
          },
          .with {
            $0.leafIndex = 0
            $0.treeSize = 15
          },
        ] {
          #expect(
            await rpcError { _ = try await custody.getInclusionProof(request) }?.code
              == .invalidArgument
          )
        }
        #expect(
          await rpcError {
            _ = try await custody.getConsistencyProof(
              .with {
                $0.firstSize = 0
                $0.secondSize = 3
              }
            )
          }?.code == .invalidArgument
        )
      }
    }
  }

  @Test(
    "tampering with a leaf, a node or a checkpoint in the SQLite file is found by fsck and breaks proofs",
    .sqliteOnly,
    arguments: ["leaf", "node", "checkpoint"]
  )
  func tamperingIsFound(target: String) async throws {
    let directory = temporaryDirectory()
    let (registered, receipt) = try await withTestGateway(dataDirectory: directory) { gateway in
      let keys = HandoverKeys()
      try await keys.register(on: gateway)
      let registered = try await Self.shipmentAtAgency(gateway, keys: keys)
      return (registered, try await Self.receipt(gateway, registered))
    }
    var configuration = GatewayConfiguration()
    configuration.dataDirectory = directory
    configuration.trustDomain = TestPKI.trustDomain
    let database = configuration.databasePath
    let verifier = try NoteVerifier(receipt.verifierKey)

    // Untouched, the log checks out.
    #expect(try await Self.fsck(database, verifier).problem == nil)

    let sql: String
    switch target {
    case "leaf":
      sql = """
        DROP TRIGGER custody_leaf_is_append_only_update;
        UPDATE custody_leaf SET data = CAST(REPLACE(CAST(data AS TEXT), 'COLLECTED', 'CANCELLED') AS BLOB) WHERE leaf_index = 1;
        """
    case "node":
      sql = """
        DROP TRIGGER custody_node_is_append_only_update;
        UPDATE custody_node SET hash = zeroblob(32) WHERE level = 1 AND node_index = 1;
        """
    default:
      sql = """
        DROP TRIGGER custody_checkpoint_is_append_only_update;
        UPDATE custody_checkpoint SET root = zeroblob(32);
        """
    }
    let output = try SQLiteTool.run(database, sql)
    #expect(output.isEmpty, "\(output)")

    let problem = try await Self.fsck(database, verifier).problem
    #expect(problem != nil, "fsck must notice the \(target)")

    // Proofs served from the tampered file no longer verify against the signed checkpoint.
    if target != "checkpoint" {
      let store = try SQLiteStorage.openCustodyLog(path: database)
      let log = CustodyLog(origin: "\(TestPKI.trustDomain)/custody", store: store)
      let checkpoint = try Checkpoint(text: verifier.open(receipt.checkpoint))
      var failures = 0
      for index in 0 ..< checkpoint.size {
        let data = try await log.entries(start: index, count: 1)[0]
        let proof = try await log.inclusionProof(index: index, size: checkpoint.size)
        if (try? MerkleVerifier.verifyInclusion(
          index: index,
          size: checkpoint.size,
          leafHash: RFC6962.leafHash(data),
          proof: proof,
          root: checkpoint.root
        ))
          == nil
        {
          failures += 1
        }
      }
      #expect(failures > 0)
    }

    // A checkpoint that no longer matches the tree stops the service at start-up. (A changed
    // leaf or inner node leaves every checkpoint's root intact: fsck finds those.)
    if target == "checkpoint" {
      await #expect(throws: (any Error).self) {
        _ = try await withTestGateway(dataDirectory: directory) { _ in () }
      }
    }
    _ = registered
  }

  @Test("a restart keeps the tree and its checkpoints consistent", .sqliteOnly)
  func restartKeepsConsistency() async throws {
    let directory = temporaryDirectory()
    let keys = HandoverKeys()
    let first = try await withTestGateway(dataDirectory: directory) { gateway in
      try await keys.register(on: gateway)
      let registered = try await Self.shipmentAtAgency(gateway, keys: keys)
      return try await Self.receipt(gateway, registered)
    }
    let second = try await withTestGateway(dataDirectory: directory) { gateway in
      #expect(gateway.gateway.verifierKey == first.verifierKey, "the log keeps its key")
      let registered = try await Self.shipmentAtAgency(gateway, keys: keys)
      let receipt = try await Self.receipt(gateway, registered)
      let old = try Checkpoint(text: NoteVerifier(first.verifierKey).open(first.checkpoint))
      let new = try Checkpoint(text: NoteVerifier(first.verifierKey).open(receipt.checkpoint))
      let proof = try await gateway.withClient(port: gateway.publicPort, credential: nil) {
        client in
        try await Postalgateway_V1_CustodyService.Client(wrapping: client).getConsistencyProof(
          .with {
            $0.firstSize = old.size
            $0.secondSize = new.size
          }
        ).hashes.map { Array($0) }
      }
      try MerkleVerifier.verifyConsistency(
        size1: old.size,
        size2: new.size,
        proof: proof,
        root1: old.root,
        root2: new.root
      )
      return receipt
    }
    #expect(
      try ReceiptVerifier.verify(second, verifierKey: first.verifierKey).hasPrefix("receipt OK")
    )
    var configuration = GatewayConfiguration()
    configuration.dataDirectory = directory
    let audit = try await Self.fsck(
      configuration.databasePath,
      try NoteVerifier(first.verifierKey)
    )
    #expect(audit.problem == nil)
    #expect(audit.leaves == 14)
  }
}

extension CustodyEndToEndTests {
  /// `log fsck` on a database file, through the store contract.
  static func fsck(
    _ path: String,
    _ verifier: NoteVerifier
  ) async throws
    -> CustodyLogAudit.Finding
  {
    try await CustodyLogAudit(store: SQLiteStorage.openCustodyLog(path: path), verifier: verifier)
      .run()
  }
}

extension Gateway {
  /// The number of leaves (for tests).
  func checkpointerLogSize() async throws -> Int64 {
    try await self.domain.custodyLog.treeSize()
  }
}

/// Runs `python3` with the project root as the working directory.
func runPython(_ arguments: [String]) throws -> (Int32, String) {
  let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
  let (status, output) = try ChildProcess.run(["python3"] + arguments, in: root.path)
  return (status, output)
}
