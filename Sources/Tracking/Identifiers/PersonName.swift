/// A person's full name as written on their papers, e.g. `Nguyễn Văn An`.
///
/// Letters of any script, combining marks, spaces, apostrophes, hyphens and dots; 1–100
/// characters; runs of spaces collapse to one. Personal data: never log it; show it only through
/// ``masked``.
public struct PersonName: Hashable, Sendable {
  /// The name with single spaces between words.
  public let rawValue: String

  /// Validates a name.
  /// - Parameter string: The name as typed.
  /// - Throws: ``InvalidValue`` when it is empty, too long or contains digits or symbols.
  public init(validating string: String) throws {
    let words = string.split(whereSeparator: \.isWhitespace)
    let normalized = words.joined(separator: " ")
    guard !normalized.isEmpty else { throw InvalidValue("is required") }
    guard normalized.count <= 100 else { throw InvalidValue("must be at most 100 characters") }
    let allowedPunctuation: Set<Unicode.Scalar> = ["'", "-", ".", "\u{2019}"]
    for scalar in normalized.unicodeScalars where scalar != " " {
      let properties = scalar.properties
      guard
        properties.isAlphabetic || properties.generalCategory == .nonspacingMark
          || allowedPunctuation.contains(scalar)
      else {
        throw InvalidValue("may contain only letters, spaces, apostrophes, hyphens and dots")
      }
    }
    self.rawValue = normalized
  }

  /// Every word reduced to its initial; all words but the last keep one star per hidden letter,
  /// at most three: `Nguyễn Văn An` → `N*** V** A`.
  public var masked: String {
    let words = self.rawValue.split(separator: " ")
    return words.enumerated().map { index, word in
      let initial = String(word.prefix(1))
      if index == words.count - 1 { return initial }
      return initial + String(repeating: "*", count: min(word.count - 1, 3))
    }.joined(separator: " ")
  }
}

/// Free text that must stay short and printable: address details and staff notes.
public struct BoundedText: Hashable, Sendable {
  /// The text, trimmed.
  public let rawValue: String

  /// Validates free text.
  /// - Parameters:
  ///   - string: The text as typed.
  ///   - maximumLength: The largest number of characters allowed.
  ///   - required: Whether an empty text is refused.
  /// - Throws: ``InvalidValue`` when it is too long, empty when required, or has control
  ///   characters.
  public init(validating string: String, maximumLength: Int, required: Bool) throws {
    let trimmed = string.trimmingWhitespace()
    if required, trimmed.isEmpty { throw InvalidValue("is required") }
    guard trimmed.count <= maximumLength else {
      throw InvalidValue("must be at most \(maximumLength) characters")
    }
    guard !trimmed.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
    else {
      throw InvalidValue("may not contain control characters")
    }
    self.rawValue = trimmed
  }
}

extension String {
  func trimmingWhitespace() -> String {
    var slice = Substring(self)
    while let first = slice.first, first.isWhitespace { slice = slice.dropFirst() }
    while let last = slice.last, last.isWhitespace { slice = slice.dropLast() }
    return String(slice)
  }
}
