import Foundation
import GRDB
import Tracking

/// A shipment's personal fields as they are sealed into `shipment.sealed`: the applicant's name,
/// identity, phone and address detail, the home pickup address detail and the rest of the
/// applicant (organisation, authorised person). The plain columns keep only the province and
/// commune codes (routing and reports need them; they name an area, not a person) and empty
/// strings where the values were.
struct PersonalFields: Codable, Equatable {
  var name: String
  var citizenID: String
  var phone: String
  var address: String
  var pickupAddress: String?
  var party: ApplicantPayload?
}

extension PersonalFields {
  init(_ shipment: Shipment) {
    self.init(applicant: shipment.applicant)
    if case .home(let address, _, _) = shipment.pickup {
      self.pickupAddress = address.detail.rawValue
    }
  }

  /// An applicant's fields alone.
  init(applicant: Applicant) {
    self.name = applicant.name.rawValue
    if case .citizen(let id) = applicant.identity {
      self.citizenID = id.rawValue
    } else {
      self.citizenID = ""
    }
    self.phone = applicant.phone.e164
    self.address = applicant.address.detail.rawValue
    self.party = ApplicantPayload(applicant)
  }

  /// The applicant back, with its address's province and commune (kept in plain columns).
  func applicant(province: String, commune: String) throws -> Applicant {
    let address = try Address(
      province: ProvinceCode(validating: province),
      commune: CommuneCode(validating: commune),
      detail: BoundedText(validating: self.address, maximumLength: .max, required: false)
    )
    let name = try PersonName(validating: self.name)
    let phone = try MobileNumber(validating: self.phone, prefixes: ShipmentRows.anyPrefix)
    if let party = self.party {
      return try party.applicant(name: name, phone: phone, address: address)
    }
    return Applicant(
      name: name,
      citizenID: try CitizenID(validating: self.citizenID, currentYear: .max),
      phone: phone,
      address: address
    )
  }

  /// The sealing context of a shipment's fields.
  static func context(_ number: String) -> String { "shipment \(number)" }

  /// An event's note and details as they are sealed into `shipment_event.sealed`.
  struct EventSecrets: Codable {
    var note: String?
    var payload: EventPayload?
  }

  static func eventContext(_ number: String, _ sequence: Int) -> String {
    "event \(number) \(sequence)"
  }
}
