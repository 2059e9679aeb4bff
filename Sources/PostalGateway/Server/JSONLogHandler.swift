import Foundation
import Logging

/// A swift-log handler that writes one JSON object per line to standard error, for log
/// collectors: `time`, `level`, `label`, `message`, `source`, and the metadata as strings.
struct JSONLogHandler: LogHandler {
  let label: String
  var logLevel: Logger.Level
  var metadata: Logger.Metadata = [:]

  init(label: String, logLevel: Logger.Level) {
    self.label = label
    self.logLevel = logLevel
  }

  subscript(metadataKey key: String) -> Logger.Metadata.Value? {
    get { self.metadata[key] }
    set { self.metadata[key] = newValue }
  }

  func log(event: LogEvent) {
    var object: [String: String] = [:]
    for (key, value) in self.metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) {
      object[key] = "\(value)"
    }
    object["time"] = Date().formatted(.iso8601)
    object["level"] = event.level.rawValue
    object["label"] = self.label
    object["message"] = "\(event.message)"
    object["source"] = event.source
    // String-to-string dictionaries always encode.
    var line = try! JSONSerialization.data(
      withJSONObject: object,
      options: [.sortedKeys, .withoutEscapingSlashes]
    )
    line.append(0x0A)
    FileHandle.standardError.write(line)
  }
}
