import ArgumentParser
import Proto
import SwiftProtobuf

/// The applicant's fields as options (`pickup register`, `person correct`).
struct ApplicantOptions: ParsableArguments {
  @Option(help: "Applicant's full name (an organisation's: its representative's).")
  var name: String
  @Option(help: "Applicant's 12-digit citizen id (or --passport for a foreigner).")
  var citizenID: String?
  @Option(help: "A foreign applicant's passport number (with --nationality).") var passport: String?
  @Option(help: "The passport's ISO 3166-1 alpha-2 nationality, e.g. KR.") var nationality: String?
  @Option(help: "An organisation applies: its enterprise/tax code (with --organisation-name).")
  var enterpriseCode: String?
  @Option(help: "The organisation's registered name.") var organisationName: String?
  @Option(help: "Someone filing under an authorisation: their full name.")
  var authorizedName: String?
  @Option(help: "The authorised person's 12-digit citizen id.") var authorizedCitizenID: String?
  @Option(help: "Applicant's mobile number.") var phone: String
  @Option(help: "Province code (2 digits).") var province: String
  @Option(help: "Commune code (5 digits).") var commune: String
  @Option(name: .customLong("address"), help: "Street address.") var streetAddress: String

  /// The applicant's address.
  var address: Postalgateway_V1_Address {
    .with {
      $0.provinceCode = self.province
      $0.communeCode = self.commune
      $0.detail = self.streetAddress
    }
  }

  /// The applicant as the wire carries it.
  var wire: Postalgateway_V1_Applicant {
    .with {
      $0.fullName = self.name
      if let passport = self.passport {
        $0.passport = .with {
          $0.number = passport
          $0.nationality = self.nationality ?? ""
        }
      } else {
        $0.citizenID = self.citizenID ?? ""
      }
      $0.phone = self.phone
      $0.address = self.address
      if let code = self.enterpriseCode {
        $0.organisation = .with {
          $0.enterpriseCode = code
          $0.name = self.organisationName ?? ""
        }
      }
      if let name = self.authorizedName {
        $0.authorizedPerson = .with {
          $0.fullName = name
          $0.citizenID = self.authorizedCitizenID ?? ""
        }
      }
    }
  }
}
