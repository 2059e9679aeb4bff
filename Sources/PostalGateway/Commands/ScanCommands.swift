import ArgumentParser
import Foundation
import GRPCCore
import Proto
import SwiftProtobuf
import Tracking

/// `postal-gateway scan upload|reuse|download`
struct ScanCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "scan",
    abstract: "Digitized documents (staff).",
    subcommands: [Upload.self, Reuse.self, Download.self]
  )

  struct Upload: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Upload the scan of a dossier item.")
    @OptionGroup var client: ClientOptions
    @Argument(help: "Tracking number.") var trackingNumber: String
    @Option(help: "The catalog document id of the item.") var document: String
    @Option(help: "The file (.pdf, .jpg, .png, .tif).") var file: String
    @Option(help: "Idempotency key. Default: a new UUID.") var requestID: String?

    func run() async throws {
      let type: Postalgateway_V1_ScanContentType
      switch (self.file as NSString).pathExtension.lowercased() {
      case "pdf": type = .pdf
      case "jpg", "jpeg": type = .jpeg
      case "png": type = .png
      case "tif", "tiff": type = .tiff
      default: throw ValidationError("--file must end in .pdf, .jpg, .png or .tif")
      }
      guard let data = FileManager.default.contents(atPath: self.file) else {
        throw ValidationError("cannot read \(self.file)")
      }
      let header = Postalgateway_V1_UploadScanRequest.Header.with {
        $0.requestID = self.requestID ?? UUID().uuidString
        $0.trackingNumber = self.trackingNumber
        $0.documentID = self.document
        $0.contentType = type
      }
      let response = try await self.client.withPartnerClient { client in
        try await Postalgateway_V1_CounterService.Client(wrapping: client).uploadScan(
          requestProducer: { writer in
            try await writer.write(.with { $0.header = header })
            var offset = 0
            while offset < data.count {
              let end = min(offset + 512 * 1024, data.count)
              try await writer.write(.with { $0.chunk = data.subdata(in: offset ..< end) })
              offset = end
            }
          })
      }
      try self.client.emit(response) {
        "\(response.scan.documentCode)  sha256 \(response.scan.sha256)  \(response.scan.size) bytes"
          + (response.created ? "" : "  (already stored)")
          + "\nshipment \(wireName(response.shipment.state))"
      }
    }
  }

  struct Reuse: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Record a dossier item by the code of a paper digitized for the same applicant."
    )
    @OptionGroup var client: ClientOptions
    @Argument(help: "Tracking number.") var trackingNumber: String
    @Option(help: "The catalog document id of the item.") var document: String
    @Option(help: "The document code of the digitized paper reused.") var code: String
    @Option(help: "Idempotency key. Default: a new UUID.") var requestID: String?

    func run() async throws {
      let response = try await self.client.withPartnerClient { client in
        try await Postalgateway_V1_CounterService.Client(wrapping: client).reusePaper(
          .with {
            $0.requestID = self.requestID ?? UUID().uuidString
            $0.trackingNumber = self.trackingNumber
            $0.documentID = self.document
            $0.documentCode = self.code
          }
        )
      }
      try self.client.emit(response) {
        "\(response.scan.documentCode)  reuses \(response.scan.reusedFrom)  sha256 \(response.scan.sha256)"
          + (response.created ? "" : "  (already recorded)")
          + "\nshipment \(wireName(response.shipment.state))"
      }
    }
  }

  struct Download: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Download a scan and check its SHA-256."
    )
    @OptionGroup var client: ClientOptions
    @Argument(help: "Document code.") var documentCode: String
    @Option(help: "Where to write the file.") var out: String
    @Option(help: "Why you read this personal data (kept in the access audit).")
    var purpose = ""

    func run() async throws {
      let (scan, data) = try await self.client.withPartnerClient { client in
        try await Postalgateway_V1_CounterService.Client(wrapping: client).downloadScan(
          .with {
            $0.documentCode = self.documentCode
            $0.purpose = self.purpose
          }
        ) { response in
          var scan = Postalgateway_V1_ScanDetails()
          var data = Data()
          for try await part in response.messages {
            switch part.part {
            case .scan(let details): scan = details
            case .chunk(let chunk): data.append(chunk)
            case nil: break
            }
          }
          return (scan, data)
        }
      }
      let digest = RequestFingerprint.digest(Array(data)).map { String(format: "%02x", $0) }
        .joined()
      guard digest == scan.sha256 else {
        throw ValidationError(
          "the downloaded bytes do not match the announced SHA-256; nothing written"
        )
      }
      try data.write(to: URL(fileURLWithPath: self.out))
      print("\(self.out): \(data.count) bytes, sha256 \(digest) (verified)")
    }
  }
}
