import Foundation
import GRPCCore
import Proto
import SwiftProtobuf
import Testing
import Tracking

@testable import PostalGateway

/// Applicants who are not adult citizens with a CCCD, checklists with optional papers and
/// alternatives, and fees per copy or per page, through the real API over mutual TLS.
@Suite("Every applicant, checklist and fee end to end")
struct ApplicantEndToEndTests {
  let pki = TestPKI.shared

  static func enterprise() -> Postalgateway_V1_RegisterPickupRequest {
    var request = samplePickup(name: "Trần Thị Bình")
    request.applicant.organisation = .with {
      $0.enterpriseCode = "0102595740"
      $0.name = "Tổng công ty Bưu điện Việt Nam"
    }
    return request
  }

  static func foreigner() -> Postalgateway_V1_RegisterPickupRequest {
    var request = samplePickup(name: "Kim Min Jun")
    request.applicant.passport = .with {
      $0.number = "M12345678"
      $0.nationality = "KR"
    }
    return request
  }

  static func authorised() -> Postalgateway_V1_RegisterPickupRequest {
    var request = samplePickup()
    request.applicant.authorizedPerson = .with {
      $0.fullName = "Lê Văn Cường"
      $0.citizenID = "019090000456"
    }
    return request
  }

  @Test("an enterprise, a foreigner and an authorised person register, and staff read them back")
  func legitimateApplicants() async throws {
    try await withTestGateway { gateway in
      try await gateway.withPartnerClient(self.pki.staff) { counter in
        let enterprise = try await counter.registerPickup(Self.enterprise()).shipment
        #expect(enterprise.applicant.organisation.enterpriseCode == "0102595740")
        #expect(enterprise.applicant.citizenID == "019084000123")

        let foreigner = try await counter.registerPickup(Self.foreigner()).shipment
        #expect(foreigner.applicant.passport.number == "M12345678")
        #expect(foreigner.applicant.passport.nationality == "KR")
        #expect(foreigner.applicant.citizenID.isEmpty)

        let authorised = try await counter.registerPickup(Self.authorised()).shipment
        #expect(authorised.applicant.authorizedPerson.fullName == "Lê Văn Cường")

        // Read back from the store, not the write's echo.
        let stored = try await counter.getShipment(
          .with { $0.trackingNumber = foreigner.trackingNumber }
        )
        #expect(stored.applicant.passport.number == "M12345678")
        let listed = try await counter.listShipments(.with { _ in })
        #expect(listed.shipments.count == 3)
      }
    }
  }

  /// A request broken in one field, and the field the error must name.
  struct Broken: Sendable, CustomTestStringConvertible {
    var field: String
    var testDescription: String
    var breakIt: @Sendable (inout Postalgateway_V1_RegisterPickupRequest) -> Void
  }

  static let broken: [Broken] = [
    Broken(field: "applicant.citizen_id", testDescription: "a 9-digit CMND") {
      $0.applicant.citizenID = "019084000"
    },
    Broken(field: "applicant.organisation.enterprise_code", testDescription: "a wrong check digit")
    {
      $0 = ApplicantEndToEndTests.enterprise()
      $0.applicant.organisation.enterpriseCode = "0102595741"
    },
    Broken(field: "applicant.organisation.name", testDescription: "an organisation without a name")
    {
      $0 = ApplicantEndToEndTests.enterprise()
      $0.applicant.organisation.name = ""
    },
    Broken(field: "applicant.passport.nationality", testDescription: "an unknown nationality") {
      $0 = ApplicantEndToEndTests.foreigner()
      $0.applicant.passport.nationality = "XX"
    },
    Broken(field: "applicant.passport.nationality", testDescription: "a Vietnamese passport holder")
    {
      $0 = ApplicantEndToEndTests.foreigner()
      $0.applicant.passport.nationality = "VN"
    },
    Broken(field: "applicant.passport.number", testDescription: "a malformed passport number") {
      $0 = ApplicantEndToEndTests.foreigner()
      $0.applicant.passport.number = "M1-2"
    },
    Broken(field: "applicant.authorized_person.citizen_id", testDescription: "an authorised CMND") {
      $0 = ApplicantEndToEndTests.authorised()
      $0.applicant.authorizedPerson.citizenID = "019090000"
    },
    Broken(
      field: "applicant.authorized_person.full_name",
      testDescription: "an unnamed authorised person"
    ) {
      $0 = ApplicantEndToEndTests.authorised()
      $0.applicant.authorizedPerson.fullName = ""
    },
  ]

  @Test(
    "a refused applicant is INVALID_ARGUMENT naming the field, and nothing is stored",
    arguments: broken
  )
  func refusedApplicants(_ broken: Broken) async throws {
    try await withTestGateway { gateway in
      try await gateway.withPartnerClient(self.pki.staff) { counter in
        var request = samplePickup()
        broken.breakIt(&request)
        let error = await rpcError { _ = try await counter.registerPickup(request) }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.hasPrefix(broken.field) == true, "\(error?.message ?? "")")
        let listed = try await counter.listShipments(.with { _ in })
        #expect(listed.shipments.isEmpty)
      }
    }
  }

  @Test("an authorised person's dossier is incomplete until the power of attorney is handed over")
  func powerOfAttorney() async throws {
    try await withTestGateway { gateway in
      try await gateway.withPartnerClient(self.pki.staff) { counter in
        let number = try await counter.registerPickup(Self.authorised()).shipment.trackingNumber
        let guided = try await counter.recordCollection(collectionRequest(number))
        #expect(!guided.complete)
        #expect(guided.missing.map(\.documentID) == [Applicant.authorizationDocumentID])

        var request = collectionRequest(number)
        request.items.append(
          .with {
            $0.documentID = Applicant.authorizationDocumentID
            $0.form = .copy
            $0.pages = 1
          }
        )
        let collected = try await counter.recordCollection(request)
        #expect(collected.complete)
        #expect(collected.shipment.unscannedDocumentIds.contains(Applicant.authorizationDocumentID))

        // Without an authorised person the paper is not in the list.
        let other = try await counter.registerPickup(samplePickup()).shipment.trackingNumber
        request.trackingNumber = other
        request.requestID = UUID().uuidString
        let refused = await rpcError { _ = try await counter.recordCollection(request) }
        #expect(refused?.message.hasPrefix("items[2].document_id") == true)
      }
    }
  }

  @Test("a birth is registered with any one of its alternatives, never needing the optional paper")
  func alternatives() async throws {
    try await withTestGateway { gateway in
      try await gateway.withPartnerClient(self.pki.staff) { counter in
        let procedure = try await counter.getProcedure(.with { $0.procedureCode = "1.001193" })
        #expect(procedure.documents.filter(\.optional).map(\.id) == ["GIAY_CHUNG_NHAN_KET_HON"])
        #expect(procedure.documents.filter { !$0.oneOfGroup.isEmpty }.count == 3)

        var pickup = samplePickup()
        pickup.procedureCode = "1.001193"
        pickup.destinationAgencyCode = ""  // the commune's, by the applicant's residence
        pickup.applicant.address.communeCode = "05443"  // the counter's commune
        let number = try await counter.registerPickup(pickup).shipment.trackingNumber
        func item(
          _ id: String,
          _ form: Postalgateway_V1_DocumentForm
        ) -> Postalgateway_V1_HandedOverItem {
          .with {
            $0.documentID = id
            $0.form = form
            $0.pages = 1
          }
        }
        var request = collectionRequest(number)
        request.feeCollectedVnd = 0
        request.items = [item("TO_KHAI", .original), item("GIAY_TO_TUY_THAN", .copy)]
        let guided = try await counter.recordCollection(request)
        #expect(guided.missing.map(\.documentID) == ["CHUNG_TU_VIEC_SINH"])
        #expect(
          guided.missing.first?.alternatives == [
            "GIAY_CHUNG_SINH", "VAN_BAN_LAM_CHUNG", "GIAY_CAM_DOAN",
          ]
        )

        request.requestID = UUID().uuidString
        request.items.append(item("VAN_BAN_LAM_CHUNG", .original))
        let collected = try await counter.recordCollection(request)
        #expect(collected.complete)
        #expect(collected.event.collection.feeLines.isEmpty)
      }
    }
  }

  @Test("fees per copy and per page are charged line by line; any other amount changes nothing")
  func fees() async throws {
    try await withTestGateway { gateway in
      try await gateway.withPartnerClient(self.pki.staff) { counter in
        // Three copies of a civil-status extract: 3 × 8 000 VND.
        let registered = try await counter.registerPickup(samplePickup()).shipment
        let number = registered.trackingNumber
        var request = collectionRequest(number)
        request.copies = 3
        let wrong = await rpcError { _ = try await counter.recordCollection(request) }
        #expect(wrong?.code == .invalidArgument)
        #expect(wrong?.message.hasPrefix("fee_collected_vnd") == true)
        #expect(wrong?.message.contains("24000") == true)
        let unchanged = try await counter.getShipment(.with { $0.trackingNumber = number })
        #expect(unchanged.state == registered.state)
        #expect(unchanged.version == registered.version)

        request.requestID = UUID().uuidString
        request.feeCollectedVnd = 24000
        let collected = try await counter.recordCollection(request).event.collection
        #expect(collected.copies == 3)
        #expect(collected.feeLines.map(\.amountVnd) == [24000])
        #expect(collected.feeLines.first?.quantity == 3)

        request.requestID = UUID().uuidString
        request.copies = 101
        let tooMany = await rpcError { _ = try await counter.recordCollection(request) }
        #expect(tooMany?.message.hasPrefix("copies") == true)

        // A certified copy of 5 pages: 2 × 2 000 + 3 × 1 000 VND.
        var pickup = samplePickup()
        pickup.procedureCode = "2.000815"
        pickup.destinationAgencyCode = ""  // commune level since 1/7/2025
        pickup.applicant.address.communeCode = "05443"  // the counter's commune
        let certified = try await counter.registerPickup(pickup).shipment.trackingNumber
        var copy = collectionRequest(certified)
        copy.items = [
          .with {
            $0.documentID = "BAN_CHINH"
            $0.form = .original
            $0.pages = 5
          },
          .with {
            $0.documentID = "BAN_SAO"
            $0.form = .copy
            $0.pages = 5
          },
        ]
        copy.feeCollectedVnd = 7000
        let lines = try await counter.recordCollection(copy).event.collection.feeLines
        #expect(lines.map(\.amountVnd) == [7000])
      }
    }
  }

  @Test(
    "postage is the tariff's for the service and the dossier leg's route, and is a receipt line"
  )
  func postage() async throws {
    try await withTestGateway { gateway in
      try await gateway.withPartnerClient(self.pki.staff) { counter in
        // At the counter of post office 250000, in the agency's commune: WITHIN_COMMUNE.
        let atCounter = try await counter.registerPickup(samplePickup()).shipment.trackingNumber
        let line = try await counter.recordCollection(collectionRequest(atCounter))
          .event.collection.postageLine
        #expect(line.amountVnd == 25000)
        #expect(line.description_p.contains("WITHIN_COMMUNE"))

        // Picked up at home in another commune of the province: WITHIN_PROVINCE.
        var home = samplePickup()
        home.pickup = .with {
          $0.home = .with {
            $0.address = home.applicant.address
            $0.window = .with {
              $0.start = Google_Protobuf_Timestamp(date: Date().addingTimeInterval(3600))
              $0.end = Google_Protobuf_Timestamp(date: Date().addingTimeInterval(3 * 3600))
            }
          }
        }
        let registered = try await counter.registerPickup(home).shipment
        var request = collectionRequest(registered.trackingNumber)
        let wrong = await rpcError { _ = try await counter.recordCollection(request) }
        #expect(wrong?.code == .invalidArgument)
        #expect(wrong?.message.hasPrefix("postage_vnd") == true)
        #expect(
          wrong?.message.contains("WITHIN_PROVINCE: 30000 VND") == true,
          "\(wrong?.message ?? "")"
        )
        let unchanged = try await counter.getShipment(
          .with { $0.trackingNumber = registered.trackingNumber }
        )
        #expect(unchanged.version == registered.version)

        request.requestID = UUID().uuidString
        request.postageVnd = 30000
        let collection = try await counter.recordCollection(request).event.collection
        #expect(collection.postageVnd == 30000)
        #expect(collection.postageLine.amountVnd == 30000)
      }
    }
  }

  @Test("a CMND or an unnamed kind of paper cannot prove a delivery's recipient")
  func deliveryIdentity() async throws {
    try await withTestGateway { gateway in
      try await gateway.withPartnerClient(self.pki.staff) { counter in
        for type in [Postalgateway_V1_IdentityDocumentType.identityCard, .other] {
          var proof = LifecycleEndToEndTests.proof()
          proof.identityType = type
          let error = await rpcError {
            _ = try await counter.recordDeliveryAttempt(
              .with {
                $0.requestID = UUID().uuidString
                $0.trackingNumber = "EH000000019VN"
                $0.delivered = proof
              }
            )
          }
          #expect(error?.code == .invalidArgument)
          #expect(
            error?.message.contains("delivered.identity_type") == true,
            "\(error?.message ?? "")"
          )
        }
      }
    }
  }
}
