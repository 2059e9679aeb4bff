import Foundation
import Tracking

/// The administrative-units files: the CSV of units in force and the JSON of former provinces
/// (see `Sources/PostalGateway/Resources/admin-units/README.md`).
enum AdministrativeMapFile {
  static let unitsFile = "admin-units-2025-07-01.csv"
  static let formerFile = "former-provinces-2025-07-01.json"

  /// The bundled folder.
  static var bundledDirectory: String {
    get throws { try BundledData.path("admin-units") }
  }

  private struct Former: Decodable {
    var version: String
    var source: String
    var provinces: [String: String]
  }

  /// Reads and checks the map in `directory`.
  /// - Throws: ``ConfigurationError`` naming the file, the line and what is wrong.
  static func load(directory: String) throws -> AdministrativeMap {
    let unitsPath = (directory as NSString).appendingPathComponent(Self.unitsFile)
    guard let data = FileManager.default.contents(atPath: unitsPath) else {
      throw ConfigurationError("cannot read the administrative units \(unitsPath)")
    }
    var provinces: [ProvinceCode: String] = [:]
    var units: [AdministrativeMap.Unit] = []
    let lines = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline)
    for (number, line) in lines.enumerated().dropFirst() {
      let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
      do {
        guard fields.count == 5 else { throw InvalidValue("needs 5 comma-separated fields") }
        if fields[2] == "province" {
          provinces[try ProvinceCode(validating: fields[0])] = fields[1]
        } else {
          guard let level = AdministrativeMap.Unit.Level(rawValue: fields[2]) else {
            throw InvalidValue("level must be province, commune, ward or special_zone")
          }
          units.append(
            .init(
              code: try CommuneCode(validating: fields[0]),
              name: fields[1],
              level: level,
              province: try ProvinceCode(validating: fields[3])
            )
          )
        }
      } catch let error as InvalidValue {
        throw ConfigurationError("\(unitsPath) line \(number + 1): \(error.reason)")
      }
    }
    let formerPath = (directory as NSString).appendingPathComponent(Self.formerFile)
    var former: [ProvinceCode: ProvinceCode] = [:]
    if let formerData = FileManager.default.contents(atPath: formerPath) {
      do {
        let file = try JSONDecoder().decode(Former.self, from: formerData)
        for (old, new) in file.provinces {
          former[try ProvinceCode(validating: old)] = try ProvinceCode(validating: new)
        }
      } catch {
        throw ConfigurationError(
          "former-provinces file \(formerPath): \(FileProblem.describe(error))"
        )
      }
    }
    do {
      return try AdministrativeMap(
        version: (Self.unitsFile as NSString).deletingPathExtension,
        source:
          "Cục Thống kê, Công văn 915/CTK-CSCL (provinces) and 1027/CTK-CSCL (25/6/2025, communes), under QĐ 19/2025/QĐ-TTg, in force from 1/7/2025",
        provinces: provinces,
        units: units,
        formerProvinces: former
      )
    } catch let error as InvalidValue {
      throw ConfigurationError("administrative units in \(directory): \(error.reason)")
    }
  }
}
