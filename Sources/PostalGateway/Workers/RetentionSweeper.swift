import Foundation
import Logging
import ServiceLifecycle
import Tracking

/// Erases personal data whose retention period is over (``RetentionPolicy``: 5 years from
/// registration by default, TT 17/2017 art. 14.3), once an hour in batches: each final shipment
/// registered before the cutoff gets `PERSONAL_DATA_ERASED` by the service's own identity (its
/// data key destroyed, its scans' files removed), and device events received before the cutoff
/// lose their payloads.
struct RetentionSweeper: Service, CustomStringConvertible {
  var description: String { "RetentionSweeper" }

  let shipments: ShipmentService
  let store: any ShipmentStore
  let offline: any OfflineSyncStore
  let blobs: any BlobStore
  let policy: RetentionPolicy
  let actor: Actor
  let interval: Duration
  let clock: any WallClock
  let logger: Logger

  static let batchSize = 200

  func run() async {
    while !Task.isCancelled, !Task.isShuttingDownGracefully {
      do {
        let (shipments, devices) = try await self.sweep(now: self.clock.now())
        if shipments + devices > 0 {
          self.logger.notice(
            "personal data erased after retention",
            metadata: ["shipments": "\(shipments)", "device_events": "\(devices)"]
          )
        }
      } catch {
        if Task.isCancelled { return }
        self.logger.error("retention sweep failed", metadata: ["error": "\(error)"])
      }
      let next = self.clock.now().advanced(by: self.interval)
      try? await cancelWhenGracefulShutdown { try await self.clock.sleep(until: next) }
    }
  }

  /// Erases everything due at `now`.
  /// - Returns: How many shipments and device events were erased.
  func sweep(now: Timestamp) async throws -> (shipments: Int, deviceEvents: Int) {
    var shipments = 0
    while !Task.isCancelled {
      let due = try await self.store.dueForErasure(
        registeredBefore: self.policy.applicantCutoff(now: now),
        limit: Self.batchSize
      )
      for number in due {
        let recorded = try await self.shipments.erasePersonalData(
          number,
          by: self.actor,
          idempotencyKey: IdempotencyKey(
            requestID: try RequestID(validating: "retention-\(number.rawValue)"),
            caller: self.actor.id,
            fingerprint: Array("retention".utf8)
          ),
          now: now
        )
        for sha256 in recorded.erasedScans { await self.blobs.remove(sha256: sha256) }
        shipments += 1
      }
      if due.count < Self.batchSize { break }
    }
    var devices = 0
    while !Task.isCancelled {
      let erased = try await self.offline.erasePayloads(
        receivedBefore: self.policy.deviceEventCutoff(now: now),
        limit: Self.batchSize
      )
      devices += erased
      if erased < Self.batchSize { break }
    }
    return (shipments, devices)
  }
}
