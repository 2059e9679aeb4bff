import Synchronization

/// A handheld that records events while offline: its owner (the caller's identity) and its id.
public struct DeviceKey: Hashable, Sendable {
  /// The SPIFFE ID of the caller that syncs it.
  public var caller: String
  /// The device's id.
  public var deviceID: String

  /// Validates a device key.
  /// - Throws: ``InvalidValue`` unless the id is 1–64 of letters, digits, `-`, `_`, `.`.
  public init(caller: String, deviceID: String) throws {
    let bytes = deviceID.utf8
    guard !bytes.isEmpty, bytes.count <= 64,
      bytes.allSatisfy({
        (48 ... 57).contains($0) || (65 ... 90).contains($0) || (97 ... 122).contains($0)
          || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".")
      })
    else {
      throw InvalidValue("must be 1–64 of letters, digits, '-', '_' and '.'")
    }
    self.caller = caller
    self.deviceID = deviceID
  }
}

/// What became of one offline event.
public struct SyncOutcome: Hashable, Sendable {
  /// Applied, or refused.
  public enum Status: String, Hashable, Sendable {
    case accepted = "ACCEPTED"
    case rejected = "REJECTED"
  }

  /// Applied or refused.
  public var status: Status
  /// For a refusal: the status code's name (e.g. `FAILED_PRECONDITION`).
  public var code: String?
  /// For a refusal: why.
  public var message: String?
  /// The shipment it was for, if known.
  public var trackingNumber: String?
  /// For an acceptance: the event's sequence in the shipment.
  public var eventSequence: Int?

  /// Creates an outcome.
  public init(
    status: Status,
    code: String?,
    message: String?,
    trackingNumber: String?,
    eventSequence: Int?
  ) {
    self.status = status
    self.code = code
    self.message = message
    self.trackingNumber = trackingNumber
    self.eventSequence = eventSequence
  }

  /// An applied event.
  public static func accepted(trackingNumber: String, eventSequence: Int) -> SyncOutcome {
    SyncOutcome(
      status: .accepted,
      code: nil,
      message: nil,
      trackingNumber: trackingNumber,
      eventSequence: eventSequence
    )
  }

  /// A refused event.
  public static func rejected(code: String, message: String, trackingNumber: String?) -> SyncOutcome
  {
    SyncOutcome(
      status: .rejected,
      code: code,
      message: message,
      trackingNumber: trackingNumber,
      eventSequence: nil
    )
  }
}

/// One offline event as kept by the store.
public struct DeviceEntry: Hashable, Sendable {
  /// Its sequence number on the device.
  public var sequence: Int
  /// A digest of the event, to tell a re-send from a reused number.
  public var fingerprint: [UInt8]
  /// The event as received (opaque to the domain).
  public var payload: [UInt8]
  /// `nil` while it waits for earlier numbers.
  public var outcome: SyncOutcome?

  /// Creates an entry.
  public init(sequence: Int, fingerprint: [UInt8], payload: [UInt8], outcome: SyncOutcome?) {
    self.sequence = sequence
    self.fingerprint = fingerprint
    self.payload = payload
    self.outcome = outcome
  }
}

/// Durable state of offline sync: each device's entries and how far it has been processed.
public protocol OfflineSyncStore: Sendable {
  /// The highest sequence number processed without a gap (0 for a new device).
  func processedThrough(_ device: DeviceKey) async throws -> Int
  /// The entry with this number, if received.
  func entry(_ device: DeviceKey, sequence: Int) async throws -> DeviceEntry?
  /// Keeps an entry that must wait for earlier numbers.
  func hold(_ device: DeviceKey, entry: DeviceEntry) async throws
  /// Records an entry's outcome and moves the cursor to its number (which must be the next).
  func complete(_ device: DeviceKey, entry: DeviceEntry, now: Timestamp) async throws
  /// The numbers of entries waiting, ascending, up to `last` and at most `limit` of them.
  func heldSequences(_ device: DeviceKey, through last: Int, limit: Int) async throws -> [Int]
  /// Erases the payloads of completed entries received before `before` (their data keys are
  /// destroyed), at most `limit`. Returns how many.
  func erasePayloads(receivedBefore before: Timestamp, limit: Int) async throws -> Int
}

/// The answer for one received offline event.
public struct SyncAcknowledgement: Hashable, Sendable {
  /// How it was handled.
  public enum Disposition: Hashable, Sendable {
    /// Processed now (applied or refused, see the outcome).
    case processed(SyncOutcome)
    /// Processed before; the original outcome.
    case duplicate(SyncOutcome)
    /// The number was used before for a different event.
    case conflicting
    /// Waiting for earlier numbers.
    case held
    /// Too far ahead of the last processed number: refused, not kept.
    case outOfWindow(limit: Int)
  }

  /// The event's number on the device.
  public var sequence: Int
  /// How it was handled.
  public var disposition: Disposition
  /// Every number up to this one has been processed.
  public var processedThrough: Int
  /// Numbers after `processedThrough` not yet received (the first ``OfflineSync/listedMissing``).
  public var missing: [Int]
  /// How many numbers after `processedThrough` are missing in all (within the window).
  public var missingCount: Int
}

/// Applies events a handheld recorded offline, in its sequence order, exactly once.
///
/// A re-sent event is acknowledged with its original outcome; an event after a gap waits; when
/// the gap fills, the waiting events are applied in order. A refused event uses its number up,
/// so the device is never stuck behind it. Events of one device are processed one at a time.
///
/// Work per message is bounded: an event more than ``window`` numbers ahead of the last one
/// processed is refused and not kept (a handheld cannot hold that many offline events; a
/// number like 2^62 is a bug or an attack), so no message can make the service hold or walk an
/// unbounded gap, now or after a restart.
public struct OfflineSync: Sendable {
  /// How far ahead of the last processed number an event may be.
  public static let window = 10_000
  /// How many missing numbers an acknowledgement lists (it counts all of them).
  public static let listedMissing = 100

  private let store: any OfflineSyncStore
  private let locks = KeyedLock<DeviceKey>()

  /// Creates the service.
  public init(store: any OfflineSyncStore) {
    self.store = store
  }

  /// Receives one event.
  /// - Parameters:
  ///   - entry: The event (without outcome).
  ///   - device: Its device.
  ///   - now: The current time.
  ///   - apply: Applies an event's payload and says what became of it; must be idempotent for a
  ///     device and number (it may run again after a crash).
  /// - Returns: The acknowledgement for this event, then one per waiting event applied after it.
  public func receive(
    _ entry: DeviceEntry,
    from device: DeviceKey,
    now: Timestamp,
    apply: @Sendable (DeviceEntry) async -> SyncOutcome
  ) async throws -> [SyncAcknowledgement] {
    try await self.locks.withLock(device) {
      var processed = try await self.store.processedThrough(device)
      if let existing = try await self.store.entry(device, sequence: entry.sequence) {
        let disposition: SyncAcknowledgement.Disposition
        if existing.fingerprint != entry.fingerprint {
          disposition = .conflicting
        } else if let outcome = existing.outcome {
          disposition = .duplicate(outcome)
        } else {
          disposition = .held
        }
        return [
          try await self.acknowledge(
            entry.sequence,
            disposition,
            device: device,
            processed: processed
          )
        ]
      }
      guard entry.sequence > processed else {
        // Processed entries are all kept; a number at or below the cursor without one was never
        // seen, which only a device that restarted its numbering can send.
        return [
          try await self.acknowledge(
            entry.sequence,
            .conflicting,
            device: device,
            processed: processed
          )
        ]
      }
      guard entry.sequence <= processed + Self.window else {
        return [
          try await self.acknowledge(
            entry.sequence,
            .outOfWindow(limit: processed + Self.window),
            device: device,
            processed: processed
          )
        ]
      }
      guard entry.sequence == processed + 1 else {
        try await self.store.hold(device, entry: entry)
        return [
          try await self.acknowledge(entry.sequence, .held, device: device, processed: processed)
        ]
      }
      var acknowledgements: [SyncAcknowledgement] = []
      var next: DeviceEntry? = entry
      while var current = next {
        current.outcome = await apply(current)
        try await self.store.complete(device, entry: current, now: now)
        processed = current.sequence
        // The outcome was set just above.
        acknowledgements.append(
          try await self.acknowledge(
            current.sequence,
            .processed(current.outcome!),
            device: device,
            processed: processed
          )
        )
        next = try await self.store.entry(device, sequence: processed + 1)
      }
      // Later acknowledgements know the final cursor; earlier ones what it was then.
      return acknowledgements
    }
  }

  private func acknowledge(
    _ sequence: Int,
    _ disposition: SyncAcknowledgement.Disposition,
    device: DeviceKey,
    processed: Int
  ) async throws -> SyncAcknowledgement {
    let held = try await self.store.heldSequences(
      device,
      through: processed + Self.window,
      limit: Self.window
    )
    var missing: [Int] = []
    var missingCount = 0
    if let last = held.last, last > processed {
      // Both lists are ascending and bounded by the window: one merge walk.
      var next = held.makeIterator()
      var heldNumber = next.next()
      for number in (processed + 1) ..< last {
        while let h = heldNumber, h < number { heldNumber = next.next() }
        if heldNumber == number { continue }
        missingCount += 1
        if missing.count < Self.listedMissing { missing.append(number) }
      }
    }
    return SyncAcknowledgement(
      sequence: sequence,
      disposition: disposition,
      processedThrough: processed,
      missing: missing,
      missingCount: missingCount
    )
  }
}

/// Runs critical sections one at a time per key, across suspension points.
final class KeyedLock<Key: Hashable & Sendable>: Sendable {
  private let state = Mutex<[Key: [CheckedContinuation<Void, Never>]]>([:])

  func withLock<T: Sendable>(_ key: Key, _ body: () async throws -> T) async throws -> T {
    await self.acquire(key)
    defer { self.release(key) }
    return try await body()
  }

  private func acquire(_ key: Key) async {
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
      let acquired = self.state.withLock { waiters -> Bool in
        if waiters[key] == nil {
          waiters[key] = []
          return true
        }
        waiters[key]!.append(continuation)  // non-nil: checked just above
        return false
      }
      if acquired { continuation.resume() }
    }
  }

  private func release(_ key: Key) {
    let next = self.state.withLock { waiters -> CheckedContinuation<Void, Never>? in
      guard var queue = waiters[key], !queue.isEmpty else {
        waiters[key] = nil
        return nil
      }
      let first = queue.removeFirst()
      waiters[key] = queue
      return first
    }
    next?.resume()
  }
}
