"""The seeded demo organisation: two offices in two districts and a hostel, their shifts, kiosks and staff."""

from dataclasses import dataclass

TZ = "Asia/Kolkata"


@dataclass(frozen=True)
class Shift:
    """A shift as POST /api/v1/shifts takes it."""

    shift_id: str
    name: str
    start_time: str
    end_time: str
    grace_late_min: int = 10
    grace_early_min: int = 10
    overnight: bool = False
    weekly_off: tuple[str, ...] = ("sat", "sun")

    def body(self) -> dict:
        return {"shift_id": self.shift_id, "name": self.name, "start_time": self.start_time,
                "end_time": self.end_time, "grace_late_min": self.grace_late_min,
                "grace_early_min": self.grace_early_min, "overnight": self.overnight,
                "weekly_off": list(self.weekly_off)}


@dataclass(frozen=True)
class Site:
    """A seeded office or hostel with its kiosk; `field` is the block its field staff check in from."""

    site_id: str
    name: str
    kind: str
    district: str
    lat: float
    lon: float
    device_id: str
    curfew: str | None = None
    field_name: str | None = None
    field: tuple[float, float] | None = None  # (lat, lon) of the field area's centre


@dataclass(frozen=True)
class Staff:
    """A seeded employee. late_rate: how often they come in late; field: checks in by phone on field days;
    tours: goes on official tours; joined_days_ago: None for long-serving staff."""

    employee_id: str
    name: str
    role: str
    site_id: str
    shift_id: str
    late_rate: float = 0.08
    field: bool = False
    tours: bool = False
    joined_days_ago: int | None = None


# Madhya Pradesh offices keep a five-day week; the hostel's staff work six days and its residents every day.
OFFICE_SHIFT = Shift("mp-office", "Office hours 10:00-18:00", "10:00", "18:00")
HOSTEL_STAFF_SHIFT = Shift("hostel-staff", "Hostel staff 08:00-16:00", "08:00", "16:00", weekly_off=("sun",))
# Residents: in by the 21:00 curfew (20:00 + 60 min grace), out to college from 07:00 the next morning.
RESIDENT_SHIFT = Shift("hostel-residents", "Residents 20:00-07:00 (curfew 21:00)", "20:00", "07:00",
                       grace_late_min=60, grace_early_min=60, overnight=True, weekly_off=())
SHIFTS = (OFFICE_SHIFT, HOSTEL_STAFF_SHIFT, RESIDENT_SHIFT)

COLLECTORATE = Site("collectorate-sehore", "कलेक्टर कार्यालय, सीहोर / Collectorate Sehore", "office", "Sehore",
                    23.2032, 77.0844, "kiosk-sehore-01", field_name="इछावर ब्लॉक / Ichhawar block",
                    field=(23.0280, 77.0160))
DEO_RAISEN = Site("deo-raisen", "जिला शिक्षा कार्यालय, रायसेन / District Education Office Raisen", "office",
                  "Raisen", 23.3308, 77.7880, "kiosk-raisen-01",
                  field_name="ओबेदुल्लागंज ब्लॉक / Obaidullaganj block", field=(22.9990, 77.5840))
HOSTEL = Site("hostel-sehore", "पोस्ट मैट्रिक अनुसूचित जाति बालक छात्रावास, सीहोर / Post-Matric SC Boys Hostel Sehore",
              "hostel", "Sehore", 23.1968, 77.0931, "kiosk-hostel-sehore-01", curfew="21:00")
SITES = (COLLECTORATE, DEO_RAISEN, HOSTEL)

STAFF = (
    Staff("SEH-001", "राजेश कुमार शर्मा", "office_head", COLLECTORATE.site_id, OFFICE_SHIFT.shift_id,
          late_rate=0.03, tours=True),
    Staff("SEH-002", "सुनीता वर्मा", "staff", COLLECTORATE.site_id, OFFICE_SHIFT.shift_id),
    Staff("SEH-003", "Rajesh Kumar", "staff", COLLECTORATE.site_id, OFFICE_SHIFT.shift_id, late_rate=0.3),
    Staff("SEH-004", "अनिल पटेल", "staff", COLLECTORATE.site_id, OFFICE_SHIFT.shift_id),
    Staff("SEH-005", "Priya Malviya", "ddo", COLLECTORATE.site_id, OFFICE_SHIFT.shift_id, late_rate=0.04),
    Staff("SEH-006", "मोहन लाल अहिरवार", "staff", COLLECTORATE.site_id, OFFICE_SHIFT.shift_id, late_rate=0.15),
    Staff("SEH-007", "Kavita Rajput", "staff", COLLECTORATE.site_id, OFFICE_SHIFT.shift_id, joined_days_ago=12),
    Staff("SEH-008", "दीपक सिंह ठाकुर", "field_staff", COLLECTORATE.site_id, OFFICE_SHIFT.shift_id,
          field=True, tours=True),
    Staff("RSN-001", "डॉ. अरुणा श्रीवास्तव", "office_head", DEO_RAISEN.site_id, OFFICE_SHIFT.shift_id,
          late_rate=0.02, tours=True),
    Staff("RSN-002", "Vinod Kushwaha", "staff", DEO_RAISEN.site_id, OFFICE_SHIFT.shift_id, late_rate=0.2),
    Staff("RSN-003", "सीमा चौहान", "staff", DEO_RAISEN.site_id, OFFICE_SHIFT.shift_id),
    Staff("RSN-004", "Manoj Tiwari", "staff", DEO_RAISEN.site_id, OFFICE_SHIFT.shift_id),
    Staff("RSN-005", "रेखा साहू", "staff", DEO_RAISEN.site_id, OFFICE_SHIFT.shift_id, late_rate=0.12),
    Staff("RSN-006", "Santosh Lodhi", "field_staff", DEO_RAISEN.site_id, OFFICE_SHIFT.shift_id,
          field=True, tours=True),
    Staff("HST-001", "हरीश चंद्र मालवीय", "warden", HOSTEL.site_id, HOSTEL_STAFF_SHIFT.shift_id, late_rate=0.05),
    Staff("HST-002", "Kamla Bai", "staff", HOSTEL.site_id, HOSTEL_STAFF_SHIFT.shift_id),
    Staff("HST-003", "भगवान दास जाटव", "staff", HOSTEL.site_id, HOSTEL_STAFF_SHIFT.shift_id, late_rate=0.1),
    Staff("HST-R01", "अमित अहिरवार", "resident", HOSTEL.site_id, RESIDENT_SHIFT.shift_id, late_rate=0.1),
    Staff("HST-R02", "Rohit Jatav", "resident", HOSTEL.site_id, RESIDENT_SHIFT.shift_id, late_rate=0.2),
    Staff("HST-R03", "सचिन बंसल", "resident", HOSTEL.site_id, RESIDENT_SHIFT.shift_id, late_rate=0.05),
    Staff("HST-R04", "Arjun Chouhan", "resident", HOSTEL.site_id, RESIDENT_SHIFT.shift_id, late_rate=0.08),
    Staff("HST-R05", "विकास मेहरा", "resident", HOSTEL.site_id, RESIDENT_SHIFT.shift_id, late_rate=0.12),
    Staff("HST-R06", "Neeraj Kori", "resident", HOSTEL.site_id, RESIDENT_SHIFT.shift_id, late_rate=0.06),
)

# Who the role logins are: the office head's office, the warden's hostel, the district officer's district,
# and the employee (an employee of the office head's office).
HEAD_SITE = COLLECTORATE.site_id
WARDEN_SITE = HOSTEL.site_id
OFFICER_DISTRICT = "Sehore"
EMPLOYEE_LOGIN = "SEH-002"

TOUR_PURPOSES = (
    "जिला स्तरीय समीक्षा बैठक, भोपाल / District review meeting, Bhopal",
    "Training, RCVP Noronha Academy, Bhopal",
    "ग्राम पंचायत निरीक्षण / Gram panchayat inspection",
    "School inspection drive",
)
LEAVE_KINDS = ("casual", "casual", "earned", "medical")
# Gazetted holidays with a fixed date (month, day); a window without one gets a district's local holiday.
FIXED_HOLIDAYS = (
    (1, 26, "गणतंत्र दिवस / Republic Day"),
    (4, 14, "डॉ. अम्बेडकर जयंती / Ambedkar Jayanti"),
    (8, 15, "स्वतंत्रता दिवस / Independence Day"),
    (10, 2, "गांधी जयंती / Gandhi Jayanti"),
    (11, 1, "मध्यप्रदेश स्थापना दिवस / Madhya Pradesh Foundation Day"),
    (12, 25, "क्रिसमस / Christmas"),
)
LOCAL_HOLIDAY = "स्थानीय अवकाश (कलेक्टर द्वारा घोषित) / Local holiday declared by the Collector"


def seed_device_ids() -> list[str]:
    """The seeded kiosks' device ids (the broker needs their accounts before it starts)."""
    return [site.device_id for site in SITES]


def shift_of(shift_id: str) -> Shift:
    return next(s for s in SHIFTS if s.shift_id == shift_id)


def site_of(site_id: str) -> Site:
    return next(s for s in SITES if s.site_id == site_id)


def staff_of(employee_id: str) -> Staff:
    return next(s for s in STAFF if s.employee_id == employee_id)
