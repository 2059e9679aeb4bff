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

/// How a natural person is identified.
public enum PersonalIdentity: Hashable, Sendable {
  /// A Vietnamese citizen, by the personal identification number.
  case citizen(CitizenID)
  /// A foreigner, by passport.
  case foreigner(passport: PassportNumber, nationality: Nationality)

  /// The number with most of it hidden, for anything a citizen or another agency sees.
  public var masked: String {
    switch self {
    case .citizen(let id): id.masked
    case .foreigner(let passport, let nationality): "\(nationality.rawValue) \(passport.masked)"
    }
  }

  /// The identity number alone: the citizen id or the passport number.
  public var number: String {
    switch self {
    case .citizen(let id): id.rawValue
    case .foreigner(let passport, _): passport.rawValue
    }
  }

  /// The fields in clear, for the custody commitment and the store.
  var clearFields: [String] {
    switch self {
    case .citizen(let id): [id.rawValue]
    case .foreigner(let passport, let nationality):
      ["passport", passport.rawValue, nationality.rawValue]
    }
  }
}

/// A natural person: a name and an identity. Personal data.
public struct Person: Hashable, Sendable {
  /// Full name.
  public var name: PersonName
  /// How they are identified.
  public var identity: PersonalIdentity

  /// Creates a person.
  public init(name: PersonName, identity: PersonalIdentity) {
    self.name = name
    self.identity = identity
  }
}

/// An enterprise or other organisation applying through its representative.
public struct Organisation: Hashable, Sendable {
  /// Enterprise / tax code.
  public var code: EnterpriseCode
  /// The registered name.
  public var name: BoundedText

  /// Creates an organisation.
  public init(code: EnterpriseCode, name: BoundedText) {
    self.code = code
    self.name = name
  }
}

/// Who hands over the dossier or receives the result: a citizen, a foreigner, or an
/// organisation's representative, possibly through someone authorised to act for them. Every
/// field is personal data.
public struct Applicant: Hashable, Sendable {
  /// Full name (for an organisation: its representative's).
  public var name: PersonName
  /// How the person named is identified.
  public var identity: PersonalIdentity
  /// Mobile number.
  public var phone: MobileNumber
  /// Home (or registered) address.
  public var address: Address
  /// The organisation, when one applies.
  public var organisation: Organisation?
  /// Someone filing for the applicant under an authorisation (giấy ủy quyền).
  public var authorizedPerson: Person?

  /// The catalog item every dossier filed under an authorisation must carry (the authorisation
  /// itself, BLDS 2015 art. 138, 562; QĐ 45 art. 10.2).
  public static let authorizationDocumentID = "GIAY_UY_QUYEN"

  /// What stands for the applicant of a shipment whose personal data was erased: no real
  /// person's data (views show nothing of it; ``Shipment/personalDataErasedAt`` says why).
  public static let erased: Applicant = {
    // Constants that pass validation; a test checks they build.
    Applicant(
      name: try! PersonName(validating: "Đã xoá"),
      citizenID: try! CitizenID(validating: "001000000000", currentYear: .max),
      phone: try! MobileNumber(validating: "0900000000", prefixes: ["90"]),
      address: Address(
        province: try! ProvinceCode(validating: "01"),
        commune: try! CommuneCode(validating: "00001"),
        detail: try! BoundedText(validating: "", maximumLength: 1, required: false)
      )
    )
  }()

  /// Creates an applicant.
  public init(
    name: PersonName,
    identity: PersonalIdentity,
    phone: MobileNumber,
    address: Address,
    organisation: Organisation? = nil,
    authorizedPerson: Person? = nil
  ) {
    self.name = name
    self.identity = identity
    self.phone = phone
    self.address = address
    self.organisation = organisation
    self.authorizedPerson = authorizedPerson
  }

  /// Creates a citizen applying for themselves.
  public init(name: PersonName, citizenID: CitizenID, phone: MobileNumber, address: Address) {
    self.init(name: name, identity: .citizen(citizenID), phone: phone, address: address)
  }

  /// The fields in clear, joined for the custody log's salted commitment. A citizen applying for
  /// themselves gives the same value as before organisations and foreigners were admitted.
  public var committedValue: String {
    var fields = [self.name.rawValue] + self.identity.clearFields + [self.phone.e164]
    fields += [
      self.address.province.rawValue, self.address.commune.rawValue, self.address.detail.rawValue,
    ]
    if let organisation {
      fields += ["organisation", organisation.code.rawValue, organisation.name.rawValue]
    }
    if let person = self.authorizedPerson {
      fields += ["authorized", person.name.rawValue] + person.identity.clearFields
    }
    return fields.joined(separator: "\u{0}")
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
