import Foundation
import GRPCCore
import Proto
import SwiftProtobuf
import TestProcesses
import Testing
import Tracking

@testable import PostalGateway

/// The data subject's right to correction, and the data keys replaced while serving.
@Suite("Personal data: correction and data-key rotation")
struct PersonalDataCorrectionTests {
  let pki = TestPKI.shared

  static func correction(
    _ number: String,
    _ applicant: Postalgateway_V1_Applicant,
    requestID: String = UUID().uuidString,
    reason: String = "Đơn đề nghị số 12/2026"
  ) -> Postalgateway_V1_CorrectPersonalDataRequest {
    .with {
      $0.requestID = requestID
      $0.trackingNumber = number
      $0.applicant = applicant
      $0.reason = reason
    }
  }

  @Test(
    "a correction replaces the applicant, moves the lookup to the new numbers, is custody-logged, and the receipt and fsck still verify",
    .sqliteOnly
  )
  func correctionReplacesTheApplicant() async throws {
    let directory = temporaryDirectory()
    let verifierKey = try await withTestGateway(dataDirectory: directory) { gateway in
      let operatorCall = HandoffEndToEndTests()
      return try await gateway.withPartnerClient(self.pki.staff) { counter in
        let registered = try await counter.registerPickup(
          samplePickup(citizenID: "019084000123", name: "Nguyễn Văn An")
        )
        let number = registered.shipment.trackingNumber
        var corrected = samplePickup().applicant
        corrected.fullName = "Nguyễn Văn Ân"
        corrected.citizenID = "019084000456"
        corrected.phone = "0987 111 222"
        let requestID = UUID().uuidString
        let response = try await operatorCall.asOperator(gateway) {
          try await $0.correctPersonalData(Self.correction(number, corrected, requestID: requestID))
        }
        #expect(response.event.type == .personalDataCorrected)
        #expect(
          Set(response.event.personalDataCorrection.fields) == ["full_name", "identity", "phone"]
        )
        #expect(response.event.personalDataCorrection.reason == "Đơn đề nghị số 12/2026")

        // A retry answers the same event; the same id with another body is refused.
        let retry = try await operatorCall.asOperator(gateway) {
          try await $0.correctPersonalData(Self.correction(number, corrected, requestID: requestID))
        }
        #expect(retry.event.sequence == response.event.sequence)
        let reused = await rpcError {
          _ = try await operatorCall.asOperator(gateway) {
            try await $0.correctPersonalData(
              Self.correction(number, corrected, requestID: requestID, reason: "khác")
            )
          }
        }
        #expect(reused?.code == .alreadyExists)

        // Staff read the new values; the lookup finds it by the new numbers only.
        let shipment = try await counter.getShipment(.with { $0.trackingNumber = number })
        #expect(shipment.applicant.fullName == "Nguyễn Văn Ân")
        #expect(shipment.applicant.citizenID == "019084000456")
        #expect(shipment.events.map(\.type) == [.registered, .personalDataCorrected])
        func found(
          _ fill: (inout Postalgateway_V1_ListShipmentsRequest) -> Void
        ) async throws
          -> [String]
        {
          var request = Postalgateway_V1_ListShipmentsRequest()
          fill(&request)
          return try await counter.listShipments(request).shipments.map(\.trackingNumber)
        }
        #expect(try await found { $0.applicantIdentityNumber = "019084000456" } == [number])
        #expect(try await found { $0.applicantPhone = "0987111222" } == [number])
        #expect(try await found { $0.applicantIdentityNumber = "019084000123" }.isEmpty)
        #expect(try await found { $0.applicantPhone = "0912345678" }.isEmpty)
        // The citizen sees the new name, masked.
        let tracked = try await gateway.track(number, code: registered.verificationCode)
        #expect(tracked.applicantNameMasked.hasPrefix("N"))
        #expect(!tracked.applicantNameMasked.contains("Ân"))

        // Nothing to correct, a bad field, an unknown shipment: refused, nothing appended.
        let same = await rpcError {
          _ = try await operatorCall.asOperator(gateway) {
            try await $0.correctPersonalData(Self.correction(number, corrected))
          }
        }
        #expect(same?.code == .invalidArgument)
        var bad = corrected
        bad.citizenID = "12"
        let badField = await rpcError {
          _ = try await operatorCall.asOperator(gateway) {
            try await $0.correctPersonalData(Self.correction(number, bad))
          }
        }
        #expect(badField?.code == .invalidArgument)
        #expect(
          badField?.message.contains("applicant.citizen_id") == true,
          "\(String(describing: badField))"
        )
        let noReason = await rpcError {
          _ = try await operatorCall.asOperator(gateway) {
            try await $0.correctPersonalData(Self.correction(number, bad, reason: ""))
          }
        }
        #expect(noReason?.message.contains("reason") == true)
        let unknown = await rpcError {
          _ = try await operatorCall.asOperator(gateway) {
            try await $0.correctPersonalData(Self.correction("EA000000080VN", corrected))
          }
        }
        #expect(unknown?.code == .notFound)
        let after = try await counter.getShipment(.with { $0.trackingNumber = number })
        #expect(after.events.count == 2)

        // The receipt covers the correction and verifies offline.
        _ = try await gateway.gateway.domain.checkpointer.signIfDue(
          now: SystemWallClock().now(),
          force: true
        )
        let receipt = try await CustodyEndToEndTests.receipt(gateway, registered)
        #expect(receipt.entries.count == 2)
        #expect(
          try ReceiptVerifier.verify(receipt, verifierKey: gateway.gateway.verifierKey)
            .hasPrefix("receipt OK")
        )

        // Once erased, there is nothing left to correct.
        _ = try await counter.recordEvent(eventRequest(number, .cancelled))
        _ = try await operatorCall.asOperator(gateway) {
          try await $0.erasePersonalData(
            .with {
              $0.requestID = UUID().uuidString
              $0.trackingNumber = number
            }
          )
        }
        let erased = await rpcError {
          _ = try await operatorCall.asOperator(gateway) {
            try await $0.correctPersonalData(Self.correction(number, samplePickup().applicant))
          }
        }
        #expect(erased?.code == .failedPrecondition)
        return gateway.gateway.verifierKey
      }
    }
    var configuration = GatewayConfiguration()
    configuration.dataDirectory = directory
    let audit = try await CustodyEndToEndTests.fsck(
      configuration.databasePath,
      try NoteVerifier(verifierKey)
    )
    #expect(audit.problem == nil)
  }

  @Test(
    "a data-key rotation seals every shipment, note and scan again under new keys while serving, and destroys the old keys",
    .sqliteOnly
  )
  func dataKeyRotationReplacesEveryKey() async throws {
    let directory = temporaryDirectory()
    var configuration = GatewayConfiguration()
    configuration.dataDirectory = directory
    let database = configuration.databasePath
    let body = Array("%PDF-1.7\nROTATION\n".utf8) + pdfBytes(90_000, seed: 5)
    try await withTestGateway(dataDirectory: directory) { gateway in
      let operatorCall = HandoffEndToEndTests()
      try await gateway.withPartnerClient(self.pki.staff) { counter in
        var numbers: [String: String] = [:]
        var documentCode = ""
        for index in 0 ..< 5 {
          let (request, _) = PersonalDataAtRestTests.applicant(index)
          let number = try await counter.registerPickup(request).shipment.trackingNumber
          numbers[number] = request.applicant.fullName
          if index == 0 {
            var collection = collectionRequest(number)
            collection.note = "ghi chú \(index)"
            _ = try await counter.recordCollection(collection)
            documentCode =
              try await upload(counter, number: number, documentID: "TO_KHAI", bytes: body)
              .scan.documentCode
          }
        }
        let before = try SQLiteTool.run(database, "SELECT id FROM data_key ORDER BY id;")
          .split(separator: "\n").map(String.init)
        #expect(before.count >= 6, "\(before)")

        let started = try await operatorCall.asOperator(gateway) {
          try await $0.rotateDataKeys(.init())
        }
        #expect(started.dataKeysToReplace >= 6)
        // A write during the rotation gets a new key and is left alone.
        let (late, _) = PersonalDataAtRestTests.applicant(7)
        let lateNumber = try await counter.registerPickup(late).shipment.trackingNumber
        numbers[lateNumber] = late.applicant.fullName
        var status = started
        for _ in 0 ..< 500 where status.dataKeysToReplace > 0 {
          try await Task.sleep(for: .milliseconds(20))
          status = try await operatorCall.asOperator(gateway) {
            try await $0.getEncryptionStatus(.init())
          }
        }
        #expect(status.dataKeysToReplace == 0)

        let after = Set(
          try SQLiteTool.run(database, "SELECT id FROM data_key ORDER BY id;")
            .split(separator: "\n").map(String.init)
        )
        #expect(after.isDisjoint(with: before), "old data keys destroyed")
        for (number, name) in numbers {
          let shipment = try await counter.getShipment(.with { $0.trackingNumber = number })
          #expect(shipment.applicant.fullName == name, "\(number)")
        }
        let first = try await counter.listShipments(
          .with { $0.applicantIdentityNumber = "019091002340" }
        ).shipments
        let withNote = try await counter.getShipment(
          .with { $0.trackingNumber = first[0].trackingNumber }
        )
        #expect(withNote.events.contains { $0.note == "ghi chú 0" })
        let parts = try await counter.downloadScan(.with { $0.documentCode = documentCode }) {
          try await $0.messages.reduce(into: []) { $0.append($1) }
        }
        #expect(parts.dropFirst().flatMap { Array($0.chunk) } == body)
        // Asked again with a 30-day age: nothing that young is replaced.
        let young = try await operatorCall.asOperator(gateway) {
          try await $0.rotateDataKeys(.with { $0.olderThanDays = 30 })
        }
        #expect(young.dataKeysToReplace == 0)
        let outOfRange = await rpcError {
          _ = try await operatorCall.asOperator(gateway) {
            try await $0.rotateDataKeys(.with { $0.olderThanDays = -1 })
          }
        }
        #expect(outOfRange?.code == .invalidArgument)
      }
    }
    // The scans on disk are still sealed.
    for file in try PersonalDataAtRestTests.files(under: directory) {
      #expect(PersonalDataAtRestTests.found(["ROTATION"], in: file).isEmpty, "\(file)")
    }
  }
}
