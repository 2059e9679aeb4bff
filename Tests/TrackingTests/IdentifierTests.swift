import Testing
import Tracking

@Suite("Citizen ids")
struct CitizenIDTests {
  @Test(
    "valid citizen ids are accepted",
    arguments: [
      "019084000123",  // Thái Nguyên, male, 1984
      "087084000999",  // Đồng Tháp, male, 1984 (published worked example)
      "001199123456",  // Hà Nội, female, 1999
      "079226000001",  // HCMC, male, 2026 (this year)
      "096300000000",  // Cà Mau, female, 2000
      "006100000000",  // Bắc Kạn (merged in 2025, code still valid), female, 1900
    ]
  )
  func accepted(id: String) throws {
    #expect(try CitizenID(validating: id, currentYear: 2026).rawValue == id)
  }

  @Test(
    "invalid citizen ids are rejected",
    arguments: [
      ("", "must be exactly 12 digits"),
      ("01908400012", "must be exactly 12 digits"),
      ("0190840001234", "must be exactly 12 digits"),
      ("01908400012a", "must be exactly 12 digits"),
      ("０19084000123", "must be exactly 12 digits"),  // full-width digit
      ("000084000123", "province"),
      ("003084000123", "province"),  // 003 is not a province code
      ("097084000123", "province"),
      ("099084000123", "province"),
      ("079227000001", "future"),  // 2027
      ("079499000001", "future"),  // 2199
      ("079800000001", "future"),  // 2300
    ]
  )
  func rejected(id: String, reason: String) {
    #expect {
      try CitizenID(validating: id, currentYear: 2026)
    } throws: { error in
      (error as? InvalidValue)?.reason.contains(reason) == true
    }
  }

  @Test("the province set has the 63 pre-2025 provinces")
  func provinceSet() {
    #expect(ProvinceOfBirth.codes.count == 63)
    #expect(ProvinceOfBirth.codes.contains(19))
    #expect(ProvinceOfBirth.codes.allSatisfy { (1 ... 96).contains($0) })
  }

  @Test("birth year and province are decoded")
  func decoded() throws {
    let id = try CitizenID(validating: "087084000999", currentYear: 2026)
    #expect(id.birthYear == 1984)
    #expect(id.provinceOfBirth == 87)
  }
}

@Suite("Mobile numbers")
struct MobileNumberTests {
  @Test(
    "Vietnamese mobile numbers are normalized to +84",
    arguments: [
      ("0912345678", "+84912345678"),
      ("+84912345678", "+84912345678"),
      ("84912345678", "+84912345678"),
      ("091 234 5678", "+84912345678"),
      ("091.234.5678", "+84912345678"),
      ("0386-123-456", "+84386123456"),
      ("0705123456", "+84705123456"),
      ("0589123456", "+84589123456"),
    ]
  )
  func normalized(input: String, e164: String) throws {
    #expect(try MobileNumber(validating: input).e164 == e164)
  }

  @Test(
    "other numbers are rejected",
    arguments: [
      "", "091234567", "09123456789", "0212345678", "0112345678", "+840912345678", "+0912345678",
      "849123456789", "0912a45678", "(091)2345678", "0312345678",
    ]
  )
  func rejected(input: String) {
    #expect(throws: InvalidValue.self) { try MobileNumber(validating: input) }
  }

  @Test("masking keeps the first and last three digits")
  func masked() throws {
    let phone = try MobileNumber(validating: "+84912345678")
    #expect(phone.national == "0912345678")
    #expect(phone.masked == "091****678")
  }
}

@Suite("Procedure, agency, post office and address codes")
struct CodeTests {
  @Test("procedure codes D.DDDDDD", arguments: ["1.001234", "2.000815", "3.000181", "1.011442"])
  func procedureAccepted(code: String) throws {
    #expect(try ProcedureCode(validating: code).rawValue == code)
  }

  @Test(
    "bad procedure codes",
    arguments: [
      "", "0.001234", "1.00123", "1.0012345", "1-001234", "a.001234", "2.000815.000.00.00.H55",
      " 1.001234",
    ]
  )
  func procedureRejected(code: String) {
    #expect(throws: InvalidValue.self) { try ProcedureCode(validating: code) }
  }

  @Test(
    "agency codes DDD.DD.DD.LDD",
    arguments: ["000.00.00.H55", "000.00.04.G14", "000.00.00.K54", "123.45.67.H30"]
  )
  func agencyAccepted(code: String) throws {
    #expect(try AgencyCode(validating: code).rawValue == code)
  }

  @Test(
    "bad agency codes",
    arguments: [
      "", "000.00.00.h55", "000.00.00.H5", "000.00.00.H555", "00.00.00.H55", "000.00.00.55",
      "000-00-00-H55", "H55.242",
    ]
  )
  func agencyRejected(code: String) {
    #expect(throws: InvalidValue.self) { try AgencyCode(validating: code) }
  }

  @Test("post office, province and commune codes")
  func otherCodes() throws {
    #expect(try PostOfficeCode(validating: "250000").rawValue == "250000")
    #expect(throws: InvalidValue.self) { try PostOfficeCode(validating: "25000") }
    #expect(throws: InvalidValue.self) { try PostOfficeCode(validating: "25000a") }
    #expect(try ProvinceCode(validating: "19").rawValue == "19")
    #expect(throws: InvalidValue.self) { try ProvinceCode(validating: "00") }
    #expect(throws: InvalidValue.self) { try ProvinceCode(validating: "190") }
    #expect(try CommuneCode(validating: "05500").rawValue == "05500")
    #expect(throws: InvalidValue.self) { try CommuneCode(validating: "0550") }
  }

  @Test("request ids are 1–128 printable ASCII characters")
  func requestIDs() throws {
    #expect(try RequestID(validating: "7b1e2a3c-0000-4000-8000-000000000000").rawValue.count == 36)
    #expect(throws: InvalidValue.self) { try RequestID(validating: "") }
    #expect(throws: InvalidValue.self) { try RequestID(validating: "has space") }
    #expect(throws: InvalidValue.self) {
      try RequestID(validating: String(repeating: "x", count: 129))
    }
    #expect(throws: InvalidValue.self) { try RequestID(validating: "ý") }
  }
}

@Suite("Names and free text")
struct PersonNameTests {
  @Test(
    "names are masked to initials",
    arguments: [
      ("Nguyễn Văn An", "N*** V** A"),
      ("Trần Thị Bình", "T*** T** B"),
      ("Lê  Minh", "L* M"),
      ("Hà", "H"),
      ("Nguyễn Thị Minh Khai", "N*** T** M*** K"),
    ]
  )
  func masked(name: String, expected: String) throws {
    #expect(try PersonName(validating: name).masked == expected)
  }

  @Test(
    "names with digits or symbols are rejected",
    arguments: ["", "   ", "An 2", "A@B", "An\u{0007}"]
  )
  func rejected(name: String) {
    #expect(throws: InvalidValue.self) { try PersonName(validating: name) }
  }

  @Test("decomposed Vietnamese letters are accepted")
  func combiningMarks() throws {
    #expect(try PersonName(validating: "Nguye\u{0302}\u{0303}n").rawValue.count > 0)
  }

  @Test("free text is trimmed and bounded")
  func boundedText() throws {
    #expect(
      try BoundedText(validating: "  ok  ", maximumLength: 5, required: true).rawValue == "ok"
    )
    #expect(throws: InvalidValue.self) {
      try BoundedText(validating: "  ", maximumLength: 5, required: true)
    }
    #expect(throws: InvalidValue.self) {
      try BoundedText(validating: "123456", maximumLength: 5, required: false)
    }
    #expect(throws: InvalidValue.self) {
      try BoundedText(validating: "a\u{0000}b", maximumLength: 5, required: false)
    }
  }
}
