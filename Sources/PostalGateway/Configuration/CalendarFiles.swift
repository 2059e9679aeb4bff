import Crypto
import Foundation
import Tracking

/// The working-calendar files: one JSON file per year (see
/// `Sources/PostalGateway/Resources/calendars/vn-2025.json`), each with a version, a
/// `provisional` flag, the days off and the working Saturdays, every entry with its source.
enum CalendarFiles {
  private struct File: Decodable {
    struct Entry: Decodable {
      var date: String
      var name: String
      var source: String
    }
    var year: Int
    var version: String
    var provisional: Bool?
    var daysOff: [Entry]
    var workingDays: [Entry]
  }

  /// The bundled calendars (2025–2027).
  static var bundledDirectory: String {
    get throws { try BundledData.path("calendars") }
  }

  /// Reads every `*.json` file of a folder.
  /// - Throws: ``ConfigurationError`` naming the file and what is wrong.
  static func load(directory: String) throws -> VietnamCalendar {
    let names: [String]
    do {
      names = try FileManager.default.contentsOfDirectory(atPath: directory)
        .filter { $0.hasSuffix(".json") }.sorted()
    } catch {
      throw ConfigurationError("cannot read the calendar folder \(directory)")
    }
    var years: [CalendarYear] = []
    for name in names {
      let path = (directory as NSString).appendingPathComponent(name)
      guard let data = FileManager.default.contents(atPath: path) else {
        throw ConfigurationError("cannot read \(path)")
      }
      let year = try Self.decode(data, name: path)
      guard !years.contains(where: { $0.year == year.year }) else {
        throw ConfigurationError("\(path): a second calendar for \(year.year)")
      }
      years.append(year)
    }
    return VietnamCalendar(years)
  }

  static func decode(_ data: Data, name: String) throws -> CalendarYear {
    let file: File
    do {
      file = try JSONDecoder().decode(File.self, from: data)
    } catch {
      throw ConfigurationError("\(name): \(FileProblem.describe(error))")
    }
    func entries(_ list: [File.Entry], _ key: String) throws -> [CalendarYear.Entry] {
      try list.enumerated().map { index, entry in
        guard let date = try? CivilDate(iso: entry.date), date.year == file.year else {
          throw ConfigurationError("\(name): \(key)[\(index)].date must be a date of \(file.year)")
        }
        guard !entry.source.isEmpty else {
          throw ConfigurationError("\(name): \(key)[\(index)].source is required")
        }
        return CalendarYear.Entry(date: date, name: entry.name, source: entry.source)
      }
    }
    let off = try entries(file.daysOff, "daysOff")
    let working = try entries(file.workingDays, "workingDays")
    if let clash = working.first(where: { w in off.contains { $0.date == w.date } }) {
      throw ConfigurationError("\(name): \(clash.date) is both a day off and a working day")
    }
    return CalendarYear(
      year: file.year,
      version: file.version,
      contentHash: SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined(),
      provisional: file.provisional ?? false,
      daysOff: off,
      workingDays: working
    )
  }
}
