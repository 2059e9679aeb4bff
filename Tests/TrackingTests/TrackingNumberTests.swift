import Testing
import Tracking

@Suite("UPU S10 tracking numbers")
struct TrackingNumberTests {
  static let published = ["RR473124829VN", "EE123456785VN", "EA000000080VN", "CP000000005VN"]
  static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")

  @Test("the published examples are valid", arguments: published)
  func publishedExamplesAreValid(number: String) throws {
    let parsed = try TrackingNumber(validating: number)
    #expect(parsed.rawValue == number)
    #expect(
      TrackingNumber(serviceIndicator: parsed.serviceIndicator, serial: parsed.serial) == parsed
    )
  }

  /// The weighted sum's remainder mod 11, computed here independently of the code under test.
  static func remainder(_ serial: Substring) -> Int {
    zip(serial.map { Int(String($0))! }, [8, 6, 4, 2, 3, 5, 9, 7]).map(*).reduce(0, +) % 11
  }

  /// Whether S10 by design cannot notice a one-character change: a letter for a letter in the
  /// service indicator (not covered by the check digit), or a serial change that moves the
  /// remainder between 0 and 6 (both give check digit 5).
  static func undetectable(original: String, changed: String, position: Int) -> Bool {
    let changedCharacter = Array(changed)[position]
    if position < 2 { return changedCharacter.isLetter }
    guard (2 ..< 10).contains(position), changedCharacter.isNumber else { return false }
    let before = Self.remainder(Array(original)[2 ..< 10].map(String.init).joined()[...])
    let after = Self.remainder(Array(changed)[2 ..< 10].map(String.init).joined()[...])
    return Set([before, after]) == [0, 6]
  }

  @Test(
    "every one-character change is rejected, except the ones S10 cannot see",
    arguments: published
  )
  func oneCharacterChangesAreRejected(number: String) {
    var undetectable: [String] = []
    for position in 0 ..< 13 {
      for replacement in Self.alphabet where replacement != Array(number)[position] {
        var characters = Array(number)
        characters[position] = replacement
        let changed = String(characters)
        let accepted = (try? TrackingNumber(validating: changed)) != nil
        let blind = Self.undetectable(original: number, changed: changed, position: position)
        #expect(accepted == blind, "\(changed)")
        if accepted && position >= 2 { undetectable.append(changed) }
      }
    }
    // Only the two examples whose check digit is 5 have serial twins, and each has a few.
    if number.dropFirst(10).hasPrefix("5") {
      #expect(!undetectable.isEmpty)
    } else {
      #expect(undetectable.isEmpty)
    }
  }

  @Test("serial twins that the check digit cannot tell apart, as documented")
  func remainderZeroAndSixCollide() throws {
    #expect((try? TrackingNumber(validating: "CP900000005VN")) != nil)  // remainder 6, digit 5
    #expect((try? TrackingNumber(validating: "EE323456785VN")) != nil)  // remainder 0, digit 5
  }

  @Test(
    "malformed numbers are rejected",
    arguments: [
      "", "RR473124829V", "RR473124829VNX", "rr473124829VN", "R1473124829VN", "RR47312482AVN",
      "RR473124829US", "RR 73124829VN", "RR473124828VN",
    ]
  )
  func malformedNumbersAreRejected(number: String) {
    #expect(throws: InvalidValue.self) { try TrackingNumber(validating: number) }
  }

  @Test(
    "minting computes the check digit",
    arguments: [(8, "EA000000080VN"), (0, "EA000000005VN"), (99_999_999, "EA999999995VN")]
  )
  func mintingComputesTheCheckDigit(serial: Int, expected: String) throws {
    let indicator = try ServiceIndicator(validating: "EA")
    #expect(TrackingNumber(serviceIndicator: indicator, serial: serial).rawValue == expected)
  }

  @Test("check digits of the worked examples")
  func checkDigits() {
    #expect(TrackingNumber.checkDigit(serialDigits: [4, 7, 3, 1, 2, 4, 8, 2]) == 9)
    #expect(TrackingNumber.checkDigit(serialDigits: [1, 2, 3, 4, 5, 6, 7, 8]) == 5)
    #expect(TrackingNumber.checkDigit(serialDigits: [0, 0, 0, 0, 0, 0, 0, 8]) == 0)
    #expect(TrackingNumber.checkDigit(serialDigits: [0, 0, 0, 0, 0, 0, 0, 0]) == 5)
  }

  @Test("service indicators are two capital letters", arguments: ["EA", "RR", "ZZ"])
  func serviceIndicators(value: String) throws {
    #expect(try ServiceIndicator(validating: value).rawValue == value)
  }

  @Test("bad service indicators are rejected", arguments: ["", "E", "EAA", "ea", "E1"])
  func badServiceIndicators(value: String) {
    #expect(throws: InvalidValue.self) { try ServiceIndicator(validating: value) }
  }
}
