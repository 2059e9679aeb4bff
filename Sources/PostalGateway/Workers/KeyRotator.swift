import Foundation
import Logging
import Persistence
import ServiceLifecycle
import Tracking

/// Rotates the key-encryption key: a new key becomes active in the key file, then every data
/// key is rewrapped under it in short batches while the service serves, and the old key is
/// retired (removed from the file) once no data key needs it. It also runs at start, so a
/// rotation a crash interrupted finishes. It also replaces data keys (``rotateDataKeys(olderThanDays:)``):
/// everything sealed under a key created before the request is sealed again under a new one.
final class KeyRotator: Service, Sendable, CustomStringConvertible {
  var description: String { "KeyRotator" }

  let ring: KeyRingFile
  let rotation: KeyRotation
  let clock: any WallClock
  let logger: Logger
  private let kicks: AsyncStream<Void>
  private let kick: AsyncStream<Void>.Continuation

  init(ring: KeyRingFile, rotation: KeyRotation, clock: any WallClock, logger: Logger) {
    self.ring = ring
    self.rotation = rotation
    self.clock = clock
    self.logger = logger
    (self.kicks, self.kick) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
  }

  /// What ``status()`` reports.
  struct Status: Sendable {
    var activeKeyID: String
    var keyIDs: [String]
    var dataKeys: [String: Int]
    var rewrapping: Bool
    var dataKeysToReplace: Int
  }

  /// Makes a new key active and starts rewrapping.
  func rotate() async throws -> Status {
    let id = try self.ring.addKey(now: Date())
    self.logger.notice("key-encryption key rotated", metadata: ["kek.active": "\(id)"])
    self.kick.yield()
    return try await self.status()
  }

  /// Starts replacing the data keys created more than `days` days ago (0: every key created
  /// before now); the values are sealed again in the background.
  func rotateDataKeys(olderThanDays days: Int) async throws -> Status {
    let cutoff = self.clock.now().advanced(by: .seconds(-Int64(days) * 86_400))
    try await self.rotation.beginDataKeyRotation(createdBefore: cutoff)
    self.logger.notice("data-key rotation started", metadata: ["older_than_days": "\(days)"])
    self.kick.yield()
    return try await self.status()
  }

  func status() async throws -> Status {
    let census = try await self.rotation.census()
    let active = self.ring.activeKeyID
    return Status(
      activeKeyID: active,
      keyIDs: self.ring.keyIDs,
      dataKeys: census,
      rewrapping: census.keys.contains { $0 != active },
      dataKeysToReplace: try await self.rotation.dataKeysToReplace()
    )
  }

  func run() async throws {
    self.kick.yield()
    try await cancelWhenGracefulShutdown {
      for await _ in self.kicks {
        do {
          try await self.drain()
        } catch {
          self.logger.error("data keys not rewrapped", metadata: ["error": "\(error)"])
        }
      }
    }
  }

  /// Rewraps until no data key is under an old key, then retires the old keys.
  func drain() async throws {
    var total = 0
    while !Task.isCancelled {
      let done = try await self.rotation.rewrapBatch()
      total += done
      if done == 0 { break }
    }
    let census = try await self.rotation.census()
    for id in self.ring.keyIDs where id != self.ring.activeKeyID && census[id] == nil {
      try self.ring.retire(id)
      self.logger.notice("key-encryption key retired", metadata: ["kek.retired": "\(id)"])
    }
    if total > 0 {
      self.logger.notice("data keys rewrapped", metadata: ["count": "\(total)"])
    }
    var replaced = 0
    while !Task.isCancelled {
      let done = try await self.rotation.reencryptBatch(now: self.clock.now())
      replaced += done
      if done == 0 { break }
    }
    if replaced > 0 {
      self.logger.notice("data keys replaced", metadata: ["count": "\(replaced)"])
    }
  }
}
