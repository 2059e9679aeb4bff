import Foundation
import Tracking

/// The machine's wall clock, at microsecond precision.
///
/// Sleeps re-read the wall clock at least once a minute, so a clock that is stepped (NTP, an
/// operator) moves deadlines with it instead of leaving a sleeper hours early or late.
struct SystemWallClock: WallClock {
  /// The longest single sleep before the wall clock is read again.
  static let maximumNap: Duration = .seconds(60)

  func now() -> Timestamp {
    // A Double holds seconds since 1970 to well under a microsecond until the year 2100.
    Timestamp(microseconds: Int64((Date().timeIntervalSince1970 * 1_000_000).rounded(.down)))
  }

  func sleep(until deadline: Timestamp) async throws {
    while true {
      let remaining = self.now().duration(to: deadline)
      guard remaining > .zero else { return }
      try await Task.sleep(for: min(remaining, Self.maximumNap))
    }
  }
}
