import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import Persistence
import Proto
import SwiftProtobuf
import Synchronization
import TestProcesses
import Testing
import Tracking

@testable import PostalGateway

/// A value tasks share.
final class Shared<Value: Sendable>: Sendable {
  private let value: Mutex<Value>
  init(_ value: Value) { self.value = Mutex(value) }
  func withLock<T: Sendable>(_ body: (inout Value) -> T) -> T { self.value.withLock { body(&$0) } }
}

/// Personal data at rest: sealed under data keys wrapped by a key-encryption key kept outside
/// the data directory; the key rotated while writes run; erased after retention without
/// breaking a proof.
@Suite("Personal data at rest", .sqliteOnly)
struct PersonalDataAtRestTests {
  let pki = TestPKI.shared

  /// An applicant with values to look for in the raw files.
  static func applicant(
    _ index: Int
  ) -> (request: Postalgateway_V1_RegisterPickupRequest, secrets: [String]) {
    let name = ["Phạm Minh Khoa", "Đỗ Thị Hạnh", "Vũ Quốc Trung"][index % 3]
    let id = "01909100234\(index % 10)"
    var request = samplePickup(citizenID: id, name: name)
    request.applicant.phone = "0913 57\(index % 10) 246"
    request.applicant.address.detail = "\(40 + index) Hoàng Văn Thụ"
    return (request, [name, id, "91357\(index % 10)246", "\(40 + index) Hoàng Văn Thụ"])
  }

  static func files(under folder: String) throws -> [String] {
    try FileManager.default.subpathsOfDirectory(atPath: folder).map {
      (folder as NSString).appendingPathComponent($0)
    }
  }

  /// The secrets found in a file (none, if sealing works).
  static func found(_ secrets: [String], in path: String) -> [String] {
    guard let bytes = FileManager.default.contents(atPath: path) else { return [] }
    return secrets.filter { bytes.range(of: Data($0.utf8)) != nil }
  }

  @Test(
    "names, identity numbers, phones, addresses, notes and scans are in no raw file: database, WAL, scans"
  )
  func nothingPersonalInRawFiles() async throws {
    let marker = "SCAN-CONTENT-MARKER-7731"
    var secrets = [marker, "gọi lại cho chị Hạnh"]
    let directory = temporaryDirectory()
    try await withTestGateway(dataDirectory: directory) { gateway in
      try await gateway.withPartnerClient(self.pki.staff) { counter in
        for index in 0 ..< 3 {
          let (request, values) = Self.applicant(index)
          secrets += values
          let number = try await counter.registerPickup(request).shipment.trackingNumber
          if index == 0 {
            var collection = collectionRequest(number)
            collection.note = "gọi lại cho chị Hạnh"
            _ = try await counter.recordCollection(collection)
            _ = try await upload(
              counter,
              number: number,
              documentID: "TO_KHAI",
              bytes: Array("%PDF-1.7\n\(marker)\n".utf8) + pdfBytes(70_000, seed: 3)
            )
          }
        }
        // Staff still read every value, and the scan, through the service.
        let first = try await counter.listShipments(
          .with { $0.applicantIdentityNumber = "019091002340" }
        ).shipments
        #expect(first.count == 1)
        let shipment = try await counter.getShipment(
          .with { $0.trackingNumber = first[0].trackingNumber }
        )
        #expect(shipment.applicant.fullName == "Phạm Minh Khoa")
        #expect(shipment.applicant.address.detail == "40 Hoàng Văn Thụ")
        #expect(shipment.events.contains { $0.note == "gọi lại cho chị Hạnh" })
      }
      // While it runs: the database, its WAL and the scans.
      let files = try Self.files(under: directory)
      #expect(files.contains { $0.hasSuffix("-wal") })
      #expect(files.contains { $0.contains("/scans/sha256/") })
      for file in files {
        #expect(Self.found(secrets, in: file).isEmpty, "\(file)")
      }
    }
    // Stopped (the WAL checkpointed into the database).
    for file in try Self.files(under: directory) {
      #expect(Self.found(secrets, in: file).isEmpty, "\(file)")
    }
  }

  @Test(
    "the key-encryption key rotates while writes run: every acknowledged write reads back, the old key is retired"
  )
  func rotationUnderLoad() async throws {
    let directory = temporaryDirectory()
    let keyFile = GatewayConfiguration.keyFile(of: directory)
    let acknowledged = Shared<[String: String]>([:])
    let stop = Shared(false)
    let (old, new) = try await withTestGateway(dataDirectory: directory) { gateway in
      let old = try KeyRingFile.open(path: keyFile, create: false).activeKeyID
      return try await withThrowingTaskGroup(of: String?.self) { group in
        for writer in 0 ..< 3 {
          group.addTask {
            try await gateway.withPartnerClient(self.pki.staff) { counter in
              var index = writer
              while !stop.withLock({ $0 }) {
                let (request, _) = Self.applicant(index)
                let number = try await counter.registerPickup(request).shipment.trackingNumber
                acknowledged.withLock { $0[number] = request.applicant.fullName }
                index += 3
              }
            }
            return nil
          }
        }
        group.addTask {
          while acknowledged.withLock({ $0.count }) < 30 {
            try await Task.sleep(for: .milliseconds(20))
          }
          let status = try await HandoffEndToEndTests().asOperator(gateway) {
            try await $0.rotateKeyEncryptionKey(.init())
          }
          // Writes go on while the data keys are rewrapped; then the old key goes.
          let target = acknowledged.withLock { $0.count } + 60
          while acknowledged.withLock({ $0.count }) < target {
            try await Task.sleep(for: .milliseconds(20))
          }
          for _ in 0 ..< 500 {
            let now = try await HandoffEndToEndTests().asOperator(gateway) {
              try await $0.getEncryptionStatus(.init())
            }
            if !now.rewrapping, now.keyIds == [status.activeKeyID] { break }
            try await Task.sleep(for: .milliseconds(20))
          }
          stop.withLock { $0 = true }
          return status.activeKeyID
        }
        var new = ""
        for try await value in group { if let value { new = value } }
        let status = try await HandoffEndToEndTests().asOperator(gateway) {
          try await $0.getEncryptionStatus(.init())
        }
        #expect(status.keyIds == [new])
        #expect(!status.rewrapping)
        #expect(status.dataKeys.keys.sorted() == [new])
        return (old, new)
      }
    }
    #expect(old != new)
    // The file holds the new key only; the restarted gateway reads every acknowledged write.
    #expect(try KeyRingFile.open(path: keyFile, create: false).keyIDs == [new])
    let expected = acknowledged.withLock { $0 }
    #expect(expected.count >= 90)
    try await withTestGateway(dataDirectory: directory) { gateway in
      try await gateway.withPartnerClient(self.pki.staff) { counter in
        for (number, name) in expected {
          let shipment = try await counter.getShipment(.with { $0.trackingNumber = number })
          #expect(shipment.applicant.fullName == name, "\(number)")
        }
      }
    }
  }

  @Test(
    "a missing, wrong or loosely permitted key file is refused at start, naming the problem, and changes nothing"
  )
  func wrongKeyFileIsRefused() async throws {
    let directory = temporaryDirectory()
    try await withTestGateway(dataDirectory: directory) { gateway in
      _ = try await gateway.withPartnerClient(self.pki.staff) {
        try await $0.registerPickup(samplePickup())
      }
    }
    let keyFile = GatewayConfiguration.keyFile(of: directory)
    let original = try Data(contentsOf: URL(fileURLWithPath: keyFile))
    let database = (directory as NSString).appendingPathComponent("postal-gateway.sqlite")
    // What the database holds, not its bytes: a later open may checkpoint the WAL.
    let databaseBefore = try SQLiteTool.run(database, ".dump")
    try FileManager.default.removeItem(atPath: keyFile)
    do {
      try await withTestGateway(dataDirectory: directory) { _ in }
      Issue.record("started without its key file")
    } catch {
      #expect("\(error)".contains("does not exist"), "\(error)")
    }
    #expect(
      !FileManager.default.fileExists(atPath: keyFile),
      "a new key ring replaced the lost one"
    )
    // The same key id with other key bytes.
    var text = String(decoding: original, as: UTF8.self)
    let key = try #require(text.components(separatedBy: "\"").first { $0.count == 44 })
    text = text.replacingOccurrences(
      of: key,
      with: Data(repeating: 9, count: 32).base64EncodedString()
    )
    try Data(text.utf8).write(to: URL(fileURLWithPath: keyFile))
    try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: keyFile)
    do {
      try await withTestGateway(dataDirectory: directory) { _ in }
      Issue.record("started with a wrong key file")
    } catch {
      #expect("\(error)".contains("wrong key file"), "\(error)")
    }
    try original.write(to: URL(fileURLWithPath: keyFile))
    try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: keyFile)
    do {
      try await withTestGateway(dataDirectory: directory) { _ in }
      Issue.record("started with a key file others can read")
    } catch {
      #expect("\(error)".contains("chmod 600"), "\(error)")
    }
    let databaseAfter = try SQLiteTool.run(database, ".dump")
    #expect(databaseAfter == databaseBefore, "a refused start changed the database")
  }

  @Test(
    "after retention a final shipment's personal data is erased: states stay, fsck passes, an earlier receipt verifies"
  )
  func erasureAfterRetention() async throws {
    let clock = ManualClock(SystemWallClock().now())
    let directory = temporaryDirectory()
    let (receipt, verifierKey) = try await withTestGateway(dataDirectory: directory, clock: clock) {
      gateway in
      try await gateway.withPartnerClient(self.pki.staff) { counter in
        let (request, _) = Self.applicant(0)
        let registered = try await counter.registerPickup(request)
        let number = registered.shipment.trackingNumber
        _ = try await counter.recordEvent(eventRequest(number, .cancelled))
        var live = Self.applicant(1).request
        live.requestID = UUID().uuidString
        let liveNumber = try await counter.registerPickup(live).shipment.trackingNumber

        // A live shipment is never erased; the operator's request is refused while it can move.
        let refused = await rpcError {
          _ = try await HandoffEndToEndTests().asOperator(gateway) {
            try await $0.erasePersonalData(
              .with {
                $0.requestID = UUID().uuidString
                $0.trackingNumber = liveNumber
              }
            )
          }
        }
        #expect(refused?.code == .failedPrecondition)

        _ = try await gateway.gateway.domain.checkpointer.signIfDue(now: clock.now(), force: true)
        let receipt = try await CustodyEndToEndTests.receipt(gateway, registered)

        // Four years on, nothing is due; five years and a day after, the final one is.
        let sweeper = RetentionSweeper(
          shipments: gateway.gateway.domain.shipments,
          store: gateway.stores.shipments,
          offline: gateway.stores.offline,
          blobs: gateway.stores.blobs,
          policy: RetentionPolicy(),
          actor: .operator(id: "spiffe://\(TestPKI.trustDomain)/service/retention"),
          interval: .seconds(3600),
          clock: clock,
          logger: .init(label: "test")
        )
        clock.advance(by: .seconds(4 * 365 * 86_400))
        #expect(try await sweeper.sweep(now: clock.now()).shipments == 0)
        clock.advance(by: .seconds((RetentionPolicy.legalMinimumDays + 1 - 4 * 365) * 86_400))
        _ = try await sweeper.sweep(now: clock.now())

        let erased = try await counter.getShipment(.with { $0.trackingNumber = number })
        #expect(erased.hasPersonalDataErasedAt)
        #expect(!erased.hasApplicant)
        #expect(erased.state == .cancelled)
        #expect(erased.events.map(\.type) == [.registered, .cancelled, .personalDataErased])
        let kept = try await counter.getShipment(.with { $0.trackingNumber = liveNumber })
        #expect(kept.applicant.fullName == live.applicant.fullName)
        // No longer found by the person's number.
        let found = try await counter.listShipments(
          .with { $0.applicantIdentityNumber = request.applicant.citizenID }
        ).shipments
        #expect(found.isEmpty)
        // The citizen still tracks it (nothing personal shown) and gets a receipt.
        let tracked = try await gateway.track(number, code: registered.verificationCode)
        #expect(tracked.applicantNameMasked.isEmpty)
        // Once erased, asking again is refused.
        let again = await rpcError {
          _ = try await HandoffEndToEndTests().asOperator(gateway) {
            try await $0.erasePersonalData(
              .with {
                $0.requestID = UUID().uuidString
                $0.trackingNumber = number
              }
            )
          }
        }
        #expect(again?.code == .failedPrecondition)
        _ = try await gateway.gateway.domain.checkpointer.signIfDue(now: clock.now(), force: true)
        let later = try await CustodyEndToEndTests.receipt(gateway, registered)
        #expect(later.entries.count == 3)
        #expect(
          try ReceiptVerifier.verify(later, verifierKey: gateway.gateway.verifierKey).hasPrefix(
            "receipt OK"
          )
        )
        return (receipt, gateway.gateway.verifierKey)
      }
    }
    #expect(try ReceiptVerifier.verify(receipt, verifierKey: verifierKey).hasPrefix("receipt OK"))
    var configuration = GatewayConfiguration()
    configuration.dataDirectory = directory
    let audit = try await CustodyEndToEndTests.fsck(
      configuration.databasePath,
      try NoteVerifier(verifierKey)
    )
    #expect(audit.problem == nil)
  }
}
