import Foundation
import Tracking

/// What a row keeps of an applicant beyond a citizen's name and number, as JSON in
/// `shipment.applicant_party` (`NULL` for a citizen applying for themselves).
struct ApplicantPayload: Codable, Equatable {
  struct Identity: Codable, Equatable {
    var citizenID: String?
    var passport: String?
    var nationality: String?
  }
  struct Authorized: Codable, Equatable {
    var name: String
    var identity: Identity
  }

  var identity: Identity
  var organisationCode: String?
  var organisationName: String?
  var authorized: Authorized?

  /// The payload for an applicant, or `nil` when the plain columns say everything.
  init?(_ applicant: Applicant) {
    if case .citizen = applicant.identity, applicant.organisation == nil,
      applicant.authorizedPerson == nil
    {
      return nil
    }
    self.identity = Identity(applicant.identity)
    self.organisationCode = applicant.organisation?.code.rawValue
    self.organisationName = applicant.organisation?.name.rawValue
    self.authorized = applicant.authorizedPerson.map {
      Authorized(name: $0.name.rawValue, identity: Identity($0.identity))
    }
  }

  /// The applicant back, from the payload and the plain columns.
  func applicant(
    name: PersonName,
    phone: MobileNumber,
    address: Address
  ) throws -> Applicant {
    var organisation: Organisation?
    if let code = self.organisationCode, let organisationName {
      organisation = Organisation(
        code: try EnterpriseCode(validating: code),
        name: try BoundedText(validating: organisationName, maximumLength: .max, required: true)
      )
    }
    return Applicant(
      name: name,
      identity: try self.identity.domain(),
      phone: phone,
      address: address,
      organisation: organisation,
      authorizedPerson: try self.authorized.map {
        Person(name: try PersonName(validating: $0.name), identity: try $0.identity.domain())
      }
    )
  }
}

extension ApplicantPayload.Identity {
  init(_ identity: PersonalIdentity) {
    switch identity {
    case .citizen(let id):
      self.init(citizenID: id.rawValue)
    case .foreigner(let passport, let nationality):
      self.init(passport: passport.rawValue, nationality: nationality.rawValue)
    }
  }

  func domain() throws -> PersonalIdentity {
    if let citizenID = self.citizenID {
      return .citizen(try CitizenID(validating: citizenID, currentYear: .max))
    }
    return .foreigner(
      passport: try PassportNumber(validating: self.passport ?? ""),
      nationality: try Nationality(validating: self.nationality ?? "")
    )
  }
}
