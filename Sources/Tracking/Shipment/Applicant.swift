/// A post-2025 three-level address: province, commune, detail.
public struct Address: Hashable, Sendable {
  /// The province.
  public var province: ProvinceCode
  /// The commune or ward.
  public var commune: CommuneCode
  /// Street, hamlet, house number (personal data).
  public var detail: BoundedText

  /// Creates an address.
  public init(province: ProvinceCode, commune: CommuneCode, detail: BoundedText) {
    self.province = province
    self.commune = commune
    self.detail = detail
  }
}

/// The citizen who hands over the dossier or receives the result. Every field is personal data.
public struct Applicant: Hashable, Sendable {
  /// Full name.
  public var name: PersonName
  /// Personal identification number.
  public var citizenID: CitizenID
  /// Mobile number.
  public var phone: MobileNumber
  /// Home address.
  public var address: Address

  /// Creates an applicant.
  public init(name: PersonName, citizenID: CitizenID, phone: MobileNumber, address: Address) {
    self.name = name
    self.citizenID = citizenID
    self.phone = phone
    self.address = address
  }
}

/// Where the postal service takes the dossier from the citizen.
public enum Pickup: Hashable, Sendable {
  /// At a post office counter.
  case counter(PostOfficeCode)
  /// At the citizen's address, within a time window, by a courier of the given post office.
  case home(address: Address, window: TimeWindow, postOffice: PostOfficeCode)

  /// The post office responsible for the pickup.
  public var postOffice: PostOfficeCode {
    switch self {
    case .counter(let office): office
    case .home(_, _, let office): office
    }
  }
}

/// A closed-open interval of time.
public struct TimeWindow: Hashable, Sendable {
  /// The first instant.
  public var start: Timestamp
  /// The first instant after the window.
  public var end: Timestamp

  /// The longest window a home pickup may ask for.
  public static let maximumPickupLength: Duration = .seconds(24 * 3600)

  /// Validates a pickup window.
  /// - Parameters:
  ///   - start: The first instant.
  ///   - end: The first instant after the window.
  ///   - now: The current time; the window may not be over.
  /// - Throws: ``InvalidValue`` when it is empty, longer than a day or over.
  public init(validatingPickup start: Timestamp, end: Timestamp, now: Timestamp) throws {
    guard start < end else { throw InvalidValue("start must be before end") }
    guard end.microseconds - start.microseconds <= 24 * 3600 * 1_000_000 else {
      throw InvalidValue("may be at most 24 hours long")
    }
    guard end > now else { throw InvalidValue("is already over") }
    self.start = start
    self.end = end
  }

  /// Creates a window without validation (for values read back from the store).
  public init(start: Timestamp, end: Timestamp) {
    self.start = start
    self.end = end
  }
}
