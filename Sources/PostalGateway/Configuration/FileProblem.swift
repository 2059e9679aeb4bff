import Foundation

/// Says what is wrong with a data or configuration file in an operator's words: the field by its
/// path (`procedures[2].documents[0].name is missing`), not a Foundation error dump.
enum FileProblem {
  /// A description of why a file could not be read or decoded.
  static func describe(_ error: any Error) -> String {
    switch error {
    case DecodingError.keyNotFound(let key, let context):
      return "\(Self.path(context.codingPath + [key])) is missing"
    case DecodingError.typeMismatch(let type, let context):
      return "\(Self.path(context.codingPath)) must be \(Self.kind(type))"
    case DecodingError.valueNotFound(let type, let context):
      return "\(Self.path(context.codingPath)) must be \(Self.kind(type)), not null"
    case DecodingError.dataCorrupted(let context) where context.codingPath.isEmpty:
      let detail = (context.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey]
      return "is not valid JSON" + (detail.map { " (\($0))" } ?? "")
    case DecodingError.dataCorrupted(let context):
      return "\(Self.path(context.codingPath)): \(context.debugDescription)"
    case let error as CocoaError where error.code == .fileReadNoSuchFile:
      return "does not exist"
    case let error as CocoaError where error.code == .fileReadNoPermission:
      return "cannot be read (permission denied)"
    default:
      return "\(error)"
    }
  }

  /// `a.b[2].c` from a coding path.
  static func path(_ keys: [any CodingKey]) -> String {
    guard !keys.isEmpty else { return "the top level" }
    var text = ""
    for key in keys {
      if let index = key.intValue {
        text += "[\(index)]"
      } else {
        text += (text.isEmpty ? "" : ".") + key.stringValue
      }
    }
    return text
  }

  private static func kind(_ type: Any.Type) -> String {
    switch type {
    case is String.Type: "a string"
    case is Bool.Type: "true or false"
    case is Int.Type, is Int64.Type, is Int32.Type: "a whole number"
    case is Double.Type: "a number"
    default:
      String(describing: type).hasPrefix("Array") ? "a list" : "an object"
    }
  }
}
