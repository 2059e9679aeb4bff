import Synchronization

/// Limits failed tracking attempts per tracking number.
///
/// Failures count per *requested* number, whether or not it exists, so that the throttle does
/// not reveal which numbers are real. After `maximumFailures` failures within `window`, every
/// attempt for that number (right or wrong) is refused until the window has passed since the
/// first of them. State is in memory: a restart forgets it.
public final class TrackingThrottle: Sendable {
  private struct Entry {
    var windowStart: Timestamp
    var failures: Int
  }

  /// Failures allowed within a window.
  public let maximumFailures: Int
  /// The window's length.
  public let window: Duration
  private let capacity: Int
  private let entries: Mutex<[String: Entry]>

  /// Creates a throttle.
  /// - Parameters:
  ///   - maximumFailures: Failures allowed within a window (default 5).
  ///   - window: The window's length (default 15 minutes).
  ///   - capacity: Numbers tracked at most: when full, expired entries are pruned and then the
  ///     oldest windows forgotten.
  public init(
    maximumFailures: Int = 5,
    window: Duration = .seconds(15 * 60),
    capacity: Int = 100_000
  ) {
    precondition(maximumFailures > 0)
    self.maximumFailures = maximumFailures
    self.window = window
    self.capacity = capacity
    self.entries = Mutex([:])
  }

  /// How long attempts for this number are still refused, or `nil` if they are allowed.
  /// - Parameters:
  ///   - key: The requested number.
  ///   - now: The current time.
  public func retryDelay(for key: String, now: Timestamp) -> Duration? {
    self.entries.withLock { entries in
      guard let entry = entries[key] else { return nil }
      let end = entry.windowStart.advanced(by: self.window)
      if end <= now {
        entries[key] = nil
        return nil
      }
      guard entry.failures >= self.maximumFailures else { return nil }
      return .microseconds(end.microseconds - now.microseconds)
    }
  }

  /// Counts a failed attempt.
  /// - Parameters:
  ///   - key: The requested number.
  ///   - now: The current time.
  public func recordFailure(for key: String, now: Timestamp) {
    self.entries.withLock { entries in
      if entries.count >= self.capacity, entries[key] == nil {
        entries = entries.filter { $0.value.windowStart.advanced(by: self.window) > now }
        if entries.count >= self.capacity {
          // Still full of live windows: forget the oldest tenth, so memory stays bounded.
          let oldest = entries.sorted { $0.value.windowStart < $1.value.windowStart }
            .prefix(max(1, self.capacity / 10)).map(\.key)
          for stale in oldest { entries[stale] = nil }
        }
      }
      if var entry = entries[key], entry.windowStart.advanced(by: self.window) > now {
        entry.failures += 1
        entries[key] = entry
      } else {
        entries[key] = Entry(windowStart: now, failures: 1)
      }
    }
  }
}
