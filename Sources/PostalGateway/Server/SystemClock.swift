import Foundation
import Tracking

/// The wall clock, at microsecond precision.
enum SystemClock {
  /// Now.
  @Sendable static func now() -> Timestamp {
    // A Double holds seconds since 1970 to well under a microsecond until the year 2100.
    Timestamp(microseconds: Int64((Date().timeIntervalSince1970 * 1_000_000).rounded(.down)))
  }
}
