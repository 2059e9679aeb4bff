import Synchronization

/// Vietnam's administrative units in force, as data: the provinces and the communes, wards and
/// special zones under them (two levels since 1/7/2025), and how the provinces of the earlier
/// map became today's. Registration checks addresses against it; the SLA policy's places must be
/// on it.
public struct AdministrativeMap: Hashable, Sendable {
  /// A unit below the province.
  public struct Unit: Hashable, Sendable {
    /// The kind of unit.
    public enum Level: String, Hashable, Sendable, CaseIterable {
      case commune = "commune"  // xã
      case ward = "ward"  // phường
      case specialZone = "special_zone"  // đặc khu
    }

    /// Its official code (5 digits).
    public var code: CommuneCode
    /// Its official name.
    public var name: String
    /// Commune, ward or special zone.
    public var level: Level
    /// The province it belongs to.
    public var province: ProvinceCode

    /// Creates a unit.
    public init(code: CommuneCode, name: String, level: Level, province: ProvinceCode) {
      self.code = code
      self.name = name
      self.level = level
      self.province = province
    }
  }

  /// The data's version (e.g. `admin-units-2025-07-01`), recorded with the route classes
  /// derived from it.
  public var version: String
  /// Where the data comes from.
  public var source: String
  /// The provinces and centrally-run cities, by code.
  public let provinces: [ProvinceCode: String]
  /// The units below them, by code.
  public let units: [CommuneCode: Unit]
  /// Provinces of the earlier map that are no longer provinces, and the province they are now
  /// part of (where a mapping is published).
  public let formerProvinces: [ProvinceCode: ProvinceCode]

  /// Checks and indexes a map.
  /// - Throws: ``InvalidValue`` for a unit under a province the map does not have.
  public init(
    version: String,
    source: String,
    provinces: [ProvinceCode: String],
    units: [Unit],
    formerProvinces: [ProvinceCode: ProvinceCode] = [:]
  ) throws {
    var index: [CommuneCode: Unit] = [:]
    for unit in units {
      guard provinces[unit.province] != nil else {
        throw InvalidValue("unit \(unit.code) is under province \(unit.province), not on the map")
      }
      guard index[unit.code] == nil else { throw InvalidValue("unit \(unit.code) is listed twice") }
      index[unit.code] = unit
    }
    for (former, current) in formerProvinces where provinces[current] == nil {
      throw InvalidValue("former province \(former) maps to \(current), which is not on the map")
    }
    self.version = version
    self.source = source
    self.provinces = provinces
    self.units = index
    self.formerProvinces = formerProvinces.filter { provinces[$0.key] == nil }
  }

  /// Checks that a province code is a province of this map.
  /// - Throws: ``InvalidValue`` saying whether it is a former province (and what it is part of
  ///   now) or unknown.
  public func checkProvince(_ province: ProvinceCode) throws {
    guard self.provinces[province] == nil else { return }
    if let now = self.formerProvinces[province] {
      throw InvalidValue(
        "\(province) is no longer a province since 1/7/2025: it is part of \(now) (\(self.provinces[now] ?? ""))"
      )
    }
    throw InvalidValue("\(province) is not a province code on the map \(self.version)")
  }

  /// Checks that a commune code is a unit of that province on this map.
  /// - Throws: ``InvalidValue`` naming what is wrong (never echoing more than the codes).
  public func checkCommune(_ commune: CommuneCode, in province: ProvinceCode) throws {
    guard let unit = self.units[commune] else {
      throw InvalidValue(
        "\(commune) is not a commune, ward or special zone on the map \(self.version)"
      )
    }
    guard unit.province == province else {
      throw InvalidValue(
        "\(commune) (\(unit.name)) belongs to province \(unit.province), not \(province)"
      )
    }
  }

  /// The unit with this code, if on the map.
  public func unit(_ code: CommuneCode) -> Unit? { self.units[code] }

  /// The province a code names today: itself, or the province a former one is part of.
  public func currentProvince(_ code: ProvinceCode) -> ProvinceCode? {
    self.provinces[code] != nil ? code : self.formerProvinces[code]
  }
}

/// The map in force; replaced on reload.
public final class AdministrativeMapHolder: Sendable {
  private let map: Mutex<AdministrativeMap>

  /// Starts with a map.
  public init(_ map: AdministrativeMap) { self.map = Mutex(map) }

  /// The map in force.
  public var current: AdministrativeMap { self.map.withLock { $0 } }

  /// Puts a new version in force.
  public func replace(with map: AdministrativeMap) { self.map.withLock { $0 = map } }
}
