import Foundation

/// A month of synthetic dossiers, the same for the same seed: when each is taken in, whether
/// the citizen was first guided on missing items, when it is filed, how many supplements the agency asks for,
/// whether the result comes before, on or after the agency's due day, whether it is delivered,
/// whether a paper is reused from the applicant's previous dossier, and the rating.
struct SeededMonth {
  /// One dossier's story.
  struct Dossier: Hashable {
    /// The working day (0-based, from Monday 2 March 2026) it is taken in.
    var day: Int
    /// Guided on missing items before it was accepted (a contact, TT 01/2018 art. 13.3).
    var guided: Bool
    /// Calendar days between intake and filing at the agency (6: the postal leg is late).
    var filingDelay: Int
    /// Supplement requests by the agency (0–2).
    var supplements: Int
    /// The result's day against the agency's due day: -1 early, 0 on the day, 1 late.
    var resultOffset: Int
    /// Whether the result is delivered (and then possibly rated).
    var delivered: Bool
    /// The overall mark the citizen gives after delivery (nil: no rating).
    var rating: Int32?
    /// Whether its identity paper is the previous dossier's, reused by code.
    var reusesPaper: Bool
  }

  let dossiers: [Dossier]

  /// Draws `count` dossiers from `seed`. Each class appears: the classes are dealt in turn and
  /// shuffled, so the month is mixed but never one-sided.
  init(seed: UInt64, count: Int) {
    var random = SplitMix64(seed: seed)
    func dealt<T>(_ values: [T]) -> [T] {
      (0 ..< count).map { values[$0 % values.count] }.shuffled(using: &random)
    }
    let offsets = dealt([-1, 0, 1])
    let supplements = dealt([0, 0, 1, 2])
    let guided = dealt([false, false, true])
    let delays = dealt([0, 0, 0, 6])
    let delivered = dealt([true, true, false])
    let marks: [Int32?] = dealt([5, 4, 5, 2, nil, 1])
    self.dossiers = (0 ..< count).map { index in
      Dossier(
        day: index,
        guided: guided[index],
        filingDelay: delays[index],
        supplements: supplements[index],
        resultOffset: offsets[index],
        delivered: delivered[index],
        rating: delivered[index] ? marks[index] : nil,
        reusesPaper: index > 0 && index % 4 == 0
      )
    }
  }
}

/// Steele, Lea and Flood's SplitMix64: small, fast, and the same on every platform.
struct SplitMix64: RandomNumberGenerator {
  var state: UInt64
  init(seed: UInt64) { self.state = seed }
  mutating func next() -> UInt64 {
    self.state &+= 0x9E37_79B9_7F4A_7C15
    var z = self.state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
