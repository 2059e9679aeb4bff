import Testing
import Tracking

/// A deterministic generator for tests (SplitMix64).
struct SeededGenerator: RandomNumberGenerator {
  var state: UInt64
  mutating func next() -> UInt64 {
    self.state &+= 0x9E37_79B9_7F4A_7C15
    var z = self.state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

@Suite("Citizens' verification codes")
struct VerificationCodeTests {
  let issuer = VerificationCodeIssuer(secret: Array(repeating: 7, count: 32))

  @Test("an issued code verifies, re-derives identically, and is 10 unambiguous symbols")
  func issueAndVerify() throws {
    var generator = SeededGenerator(state: 1)
    let (code, commitment) = self.issuer.issue(using: &generator)
    #expect(code.symbols.count == 10)
    #expect(code.symbols.allSatisfy { VerificationCode.alphabet.contains($0) })
    #expect(!code.symbols.contains { "01ILOU".contains($0) })
    #expect(self.issuer.verify(code, against: commitment))
    #expect(self.issuer.code(for: commitment) == code)
    #expect(!commitment.hash.isEmpty && commitment.salt.count == 16)
  }

  @Test("a code is accepted in lower case and without the dash")
  func parsing() throws {
    #expect(try VerificationCode(parsing: "abcde-fghjk").symbols == "ABCDEFGHJK")
    #expect(try VerificationCode(parsing: "ABCDE FGHJK").description == "ABCDE-FGHJK")
    #expect(throws: InvalidValue.self) { try VerificationCode(parsing: "ABCDE-FGHJ") }
    #expect(throws: InvalidValue.self) { try VerificationCode(parsing: "ABCDE-FGHJ0") }
    #expect(throws: InvalidValue.self) { try VerificationCode(parsing: "ABCDE-FGHJI") }
  }

  @Test("a wrong code, another shipment's code, or another secret fails")
  func wrongCodesFail() throws {
    var generator = SeededGenerator(state: 2)
    let (code, commitment) = self.issuer.issue(using: &generator)
    let (other, _) = self.issuer.issue(using: &generator)
    #expect(code != other)
    #expect(!self.issuer.verify(other, against: commitment))
    #expect(!self.issuer.verify(code, against: nil))
    let otherIssuer = VerificationCodeIssuer(secret: Array(repeating: 8, count: 32))
    #expect(!otherIssuer.verify(code, against: commitment))
  }

  @Test("symbols are spread over the whole alphabet")
  func symbolsAreSpread() {
    var generator = SeededGenerator(state: 3)
    var counts: [Character: Int] = [:]
    for _ in 0 ..< 600 {
      for symbol in self.issuer.issue(using: &generator).0.symbols {
        counts[symbol, default: 0] += 1
      }
    }
    #expect(counts.count == VerificationCode.alphabet.count)
    // 6,000 symbols over 30: about 200 each; a biased mapping would leave some far below.
    #expect(counts.values.allSatisfy { $0 > 120 })
  }
}

@Suite("Tracking throttle")
struct TrackingThrottleTests {
  static let start = Timestamp(microseconds: 1_000_000_000)
  static let number = "EA000000005VN"

  @Test("after the allowed failures a client is refused for that number until the window passes")
  func locksAndUnlocks() {
    let throttle = TrackingThrottle(maximumFailures: 3, window: .seconds(60))
    for second in 0 ..< 3 {
      let now = Self.start.advanced(by: .seconds(second))
      #expect(throttle.admit(Self.number, from: "ipv4:203.0.113.7", now: now) == nil)
      throttle.recordFailure(Self.number, from: "ipv4:203.0.113.7", now: now)
    }
    let delay = throttle.admit(
      Self.number,
      from: "ipv4:203.0.113.7",
      now: Self.start.advanced(by: .seconds(10))
    )
    #expect(delay == .seconds(50))
    #expect(
      throttle.admit("EA000000080VN", from: "ipv4:203.0.113.7", now: Self.start) == nil,
      "other numbers are not affected"
    )
    #expect(
      throttle.admit(
        Self.number,
        from: "ipv4:203.0.113.7",
        now: Self.start.advanced(by: .seconds(60))
      )
        == nil
    )
  }

  @Test("wrong codes from one address do not lock out the citizen at another")
  func otherClientsAreNotLockedOut() {
    let throttle = TrackingThrottle(maximumFailures: 3, window: .seconds(900))
    for _ in 0 ..< 10 {
      throttle.recordFailure(Self.number, from: "ipv4:198.51.100.1", now: Self.start)
    }
    #expect(throttle.admit(Self.number, from: "ipv4:198.51.100.1", now: Self.start) != nil)
    #expect(throttle.admit(Self.number, from: "ipv4:203.0.113.7", now: Self.start) == nil)
  }

  @Test("a success forgets the client's failures")
  func successResets() {
    let throttle = TrackingThrottle(maximumFailures: 3, window: .seconds(900))
    throttle.recordFailure(Self.number, from: "a", now: Self.start)
    throttle.recordFailure(Self.number, from: "a", now: Self.start)
    throttle.recordSuccess(Self.number, from: "a")
    throttle.recordFailure(Self.number, from: "a", now: Self.start)
    throttle.recordFailure(Self.number, from: "a", now: Self.start)
    #expect(throttle.admit(Self.number, from: "a", now: Self.start) == nil)
  }

  @Test("a number tried from many addresses is slowed to one attempt per interval, not locked")
  func manyAddressesSlowNotLock() {
    let throttle = TrackingThrottle(
      maximumFailures: 5,
      maximumFailuresPerNumber: 20,
      window: .seconds(900),
      slowInterval: .seconds(10)
    )
    for client in 0 ..< 20 {
      throttle.recordFailure(Self.number, from: "ipv4:10.0.0.\(client)", now: Self.start)
    }
    #expect(throttle.admit(Self.number, from: "citizen", now: Self.start) == nil, "one goes")
    #expect(throttle.admit(Self.number, from: "citizen", now: Self.start) == .seconds(10))
    let later = Self.start.advanced(by: .seconds(10))
    #expect(throttle.admit(Self.number, from: "citizen", now: later) == nil, "and one more later")
    throttle.unlock(Self.number)
    #expect(throttle.admit(Self.number, from: "citizen", now: later) == nil)
    #expect(throttle.admit(Self.number, from: "citizen", now: later) == nil, "unlocked")
  }

  @Test("failures older than the window are forgotten")
  func windowSlides() {
    let throttle = TrackingThrottle(maximumFailures: 2, window: .seconds(60))
    let start = Timestamp(microseconds: 0)
    throttle.recordFailure("n", from: "c", now: start)
    throttle.recordFailure("n", from: "c", now: start.advanced(by: .seconds(61)))
    #expect(throttle.admit("n", from: "c", now: start.advanced(by: .seconds(62))) == nil)
  }

  @Test("the tables stay bounded")
  func bounded() {
    let throttle = TrackingThrottle(maximumFailures: 1, window: .seconds(1000), capacity: 10)
    for index in 0 ..< 100 {
      throttle.recordFailure("n\(index)", from: "c", now: Timestamp(microseconds: Int64(index)))
    }
    #expect(throttle.admit("n99", from: "c", now: Timestamp(microseconds: 100)) != nil)
    #expect(throttle.admit("n0", from: "c", now: Timestamp(microseconds: 100)) == nil, "forgotten")
  }
}

@Suite("Timestamps")
struct TimestampTests {
  @Test("wire seconds and nanoseconds round-trip at microsecond precision")
  func roundTrip() {
    let t = Timestamp(seconds: 1_764_000_000, nanoseconds: 123_456_789)
    #expect(t.microseconds == 1_764_000_000_123_456)
    #expect(t.seconds == 1_764_000_000)
    #expect(t.nanoseconds == 123_456_000)
    let negative = Timestamp(microseconds: -1)
    #expect(negative.seconds == -1)
    #expect(negative.nanoseconds == 999_999_000)
  }

  @Test("the year in Vietnam changes at 17:00 UTC on 31 December")
  func yearInVietnam() {
    // 2025-12-31T16:59:59Z is 23:59:59 in Vietnam; one second later it is 2026 there.
    let before = Timestamp(microseconds: 1_767_200_399_000_000)
    #expect(before.yearInVietnam == 2025)
    #expect(before.advanced(by: .seconds(1)).yearInVietnam == 2026)
  }

  @Test("description is RFC 3339 in UTC")
  func description() {
    #expect(
      Timestamp(microseconds: 1_767_200_399_000_001).description == "2025-12-31T16:59:59.000001Z"
    )
  }
}

@Suite("Page tokens")
struct PageTokenTests {
  @Test("a token round-trips with its filter and is refused with another")
  func boundToFilter() throws {
    let cursor = ShipmentQuery.Cursor(
      createdAt: Timestamp(microseconds: 42),
      trackingNumber: try TrackingNumber(validating: "EA000000080VN")
    )
    let filter = ShipmentQuery.Filter(state: .collected)
    let token = PageToken.encode(cursor, filter: filter)
    #expect(try PageToken.decode(token, filter: filter) == cursor)
    #expect(throws: InvalidValue.self) {
      try PageToken.decode(token, filter: .init(state: .requested))
    }
    #expect(throws: InvalidValue.self) {
      try PageToken.decode("v1.x.EA000000080VN.0", filter: filter)
    }
    #expect(throws: InvalidValue.self) { try PageToken.decode("garbage", filter: filter) }
  }
}
