import Foundation
import GRPCCore
import Proto
import SwiftProtobuf
import Synchronization
import Testing
import Tracking

@testable import PostalGateway

/// Backups end to end: taken from a real SQLite file while clients write over mutual TLS,
/// restored into a new data directory, and served again.
@Suite("Backup and restore", .sqliteOnly)
struct BackupTests {
  let pki = TestPKI.shared

  /// What the writers had acknowledged: tracking number → events the server confirmed.
  final class Acknowledged: Sendable {
    let events = Mutex<[String: Int]>([:])
    let changes = ChangeSignal()
    func record(_ number: String) {
      self.events.withLock { $0[number, default: 0] += 1 }
      self.changes.bump()
    }
    /// Returns once the writers have acknowledged events for `count` shipments.
    func wait(forShipments count: Int) async {
      while !Task.isCancelled {
        let version = self.changes.version
        if self.snapshot.count >= count { return }
        await self.changes.wait(from: version)
      }
    }
    var snapshot: [String: Int] { self.events.withLock { $0 } }
    let stopped = Mutex(false)
  }

  @Test(
    "a backup taken under write load restores every acknowledged event, passes fsck and contains the last checkpoint"
  )
  func backupUnderLoadRestores() async throws {
    let source = temporaryDirectory()
    let folder = (temporaryDirectory() as NSString).appendingPathComponent("backup")
    let acknowledged = Acknowledged()
    let (before, checkpoint, later) = try await withTestGateway(dataDirectory: source) {
      gateway in
      // One scan, so the backup must carry the scans folder too.
      try await gateway.withPartnerClient(self.pki.staff) { counter in
        let number = try await counter.registerPickup(samplePickup()).shipment.trackingNumber
        acknowledged.record(number)
        _ = try await counter.recordCollection(collectionRequest(number))
        acknowledged.record(number)
        _ = try await upload(counter, number: number, documentID: "TO_KHAI", bytes: pdfBytes(9000))
        acknowledged.record(number)
      }
      // Signed now, or already by the signer worker at this size.
      _ = try await gateway.gateway.domain.checkpointer.signIfDue(
        now: SystemWallClock().now(),
        force: true
      )
      let signed = try await gateway.gateway.domain.checkpointer.latestCheckpoint()
      return try await withThrowingTaskGroup(of: Void.self) { writers in
        for _ in 0 ..< 3 {
          writers.addTask {
            try await gateway.withPartnerClient(self.pki.staff) { counter in
              while !acknowledged.stopped.withLock({ $0 }) {
                let number = try await counter.registerPickup(samplePickup()).shipment
                  .trackingNumber
                acknowledged.record(number)
                _ = try await counter.recordCollection(collectionRequest(number))
                acknowledged.record(number)
              }
            }
          }
        }
        // Writes are flowing before and while the backup is taken.
        await acknowledged.wait(forShipments: 10)
        let before = acknowledged.snapshot
        let manifest = try await BackupTaker(configuration: gateway.gateway.configuration)
          .take(into: folder, now: SystemWallClock().now())
        #expect(manifest.files.contains { $0.path.hasPrefix("data/scans/sha256/") })
        #expect(manifest.latestCheckpoint != nil)
        await acknowledged.wait(forShipments: before.count + 10)
        acknowledged.stopped.withLock { $0 = true }
        try await writers.waitForAll()
        _ = try await gateway.gateway.domain.checkpointer.signIfDue(
          now: SystemWallClock().now(),
          force: true
        )
        let later = try await gateway.gateway.domain.checkpointer.latestCheckpoint()
        return (before, signed?.note, later?.note)
      }
    }
    let checkpointFile = (temporaryDirectory() as NSString).appendingPathComponent("checkpoint")
    try #require(checkpoint).write(toFile: checkpointFile, atomically: true, encoding: .utf8)
    let laterFile = (temporaryDirectory() as NSString).appendingPathComponent("later")
    try #require(later).write(toFile: laterFile, atomically: true, encoding: .utf8)

    // A checkpoint signed after the backup names entries the backup cannot have: refused, and
    // nothing is written.
    let refusedTarget = temporaryDirectory()
    var refusedConfiguration = GatewayConfiguration()
    refusedConfiguration.dataDirectory = refusedTarget
    refusedConfiguration.trustDomain = TestPKI.trustDomain
    await #expect(throws: BackupRestorer.Failure.self) {
      _ = try await BackupRestorer(
        backup: folder,
        configuration: refusedConfiguration,
        laterCheckpoint: laterFile
      ).restore()
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: refusedTarget).isEmpty)

    let target = temporaryDirectory()
    var configuration = GatewayConfiguration()
    configuration.dataDirectory = target
    configuration.trustDomain = TestPKI.trustDomain
    let report = try await BackupRestorer(
      backup: folder,
      configuration: configuration,
      laterCheckpoint: checkpointFile
    ).restore()
    #expect(report.audit.problem == nil)
    #expect(report.scans == 1)
    #expect(report.checkedAgainst != nil)

    // The backup holds ciphertext only: not the key-encryption key, not an applicant's values.
    let sourceKeys = GatewayConfiguration.keyFile(of: source)
    let kek = try String(contentsOfFile: sourceKeys, encoding: .utf8)
    let secrets =
      [samplePickup().applicant.fullName, samplePickup().applicant.phone]
      + kek.components(separatedBy: "\"").filter { $0.count == 44 }  // the base64 keys
    for path in try FileManager.default.subpathsOfDirectory(atPath: folder) {
      let full = (folder as NSString).appendingPathComponent(path)
      guard let bytes = FileManager.default.contents(atPath: full) else { continue }
      for secret in secrets {
        #expect(bytes.range(of: Data(secret.utf8)) == nil, "\(path) holds a secret")
      }
    }
    // Restored without its key file, the data cannot be opened: refused at start.
    await #expect(throws: ConfigurationError.self) {
      try await withTestGateway(dataDirectory: target) { _ in }
    }
    let targetKeys = GatewayConfiguration.keyFile(of: target)
    try FileManager.default.createDirectory(
      atPath: (targetKeys as NSString).deletingLastPathComponent,
      withIntermediateDirectories: true
    )
    try FileManager.default.copyItem(atPath: sourceKeys, toPath: targetKeys)

    try await withTestGateway(dataDirectory: target) { gateway in
      try await gateway.withPartnerClient(self.pki.staff) { counter in
        for (number, events) in before {
          let shipment = try await counter.getShipment(.with { $0.trackingNumber = number })
          #expect(shipment.events.count >= events, "\(number)")
        }
      }
    }
  }

  @Test("a backup with a changed, missing or extra file is refused before anything is restored")
  func tamperedBackupIsRefused() async throws {
    let source = temporaryDirectory()
    try await withTestGateway(dataDirectory: source) { gateway in
      _ = try await gateway.withPartnerClient(self.pki.staff) {
        try await $0.registerPickup(samplePickup())
      }
    }
    var configuration = GatewayConfiguration()
    configuration.dataDirectory = source
    configuration.trustDomain = TestPKI.trustDomain
    let tampered: [(String, (String) throws -> Void)] = [
      (
        "changed",
        { folder in
          let path = (folder as NSString).appendingPathComponent("data/secrets/verification.key")
          try Data(repeating: 7, count: 32).write(to: URL(fileURLWithPath: path))
        }
      ),
      (
        "missing",
        { folder in
          try FileManager.default.removeItem(
            atPath: (folder as NSString).appendingPathComponent("data/catalog.json")
          )
        }
      ),
      (
        "not in the manifest",
        { folder in
          try Data("x".utf8).write(
            to: URL(fileURLWithPath: (folder as NSString).appendingPathComponent("extra"))
          )
        }
      ),
    ]
    for (expected, change) in tampered {
      let folder = (temporaryDirectory() as NSString).appendingPathComponent("backup")
      _ = try await BackupTaker(configuration: configuration).take(
        into: folder,
        now: SystemWallClock().now()
      )
      try change(folder)
      let target = temporaryDirectory()
      var restored = configuration
      restored.dataDirectory = target
      do {
        _ = try await BackupRestorer(backup: folder, configuration: restored).restore()
        Issue.record("a backup with a file \(expected) was restored")
      } catch let failure as BackupRestorer.Failure {
        #expect(failure.description.contains(expected == "changed" ? "does not match" : expected))
      }
      #expect(try FileManager.default.contentsOfDirectory(atPath: target).isEmpty)
    }
  }
}
