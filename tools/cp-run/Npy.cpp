//===- Npy.cpp - strict NumPy .npy reader and writer ----------------------===//

#include "Npy.h"

#include "cprt/Half.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <cstring>
#include <unistd.h>

using namespace cprun;
using llvm::StringRef;

int64_t cprun::elemBytes(ElemKind kind) {
  switch (kind) {
  case ElemKind::I1:
  case ElemKind::I8:
  case ElemKind::U8:
    return 1;
  case ElemKind::F16:
  case ElemKind::BF16:
  case ElemKind::I16:
    return 2;
  case ElemKind::F32:
  case ElemKind::I32:
    return 4;
  case ElemKind::F64:
  case ElemKind::I64:
    return 8;
  }
  return 0;
}

const char *cprun::elemName(ElemKind kind) {
  switch (kind) {
  case ElemKind::F16:
    return "f16";
  case ElemKind::BF16:
    return "bf16";
  case ElemKind::F32:
    return "f32";
  case ElemKind::F64:
    return "f64";
  case ElemKind::I1:
    return "i1";
  case ElemKind::I8:
    return "i8";
  case ElemKind::U8:
    return "ui8";
  case ElemKind::I16:
    return "i16";
  case ElemKind::I32:
    return "i32";
  case ElemKind::I64:
    return "i64";
  }
  return "?";
}

bool cprun::isFloat(ElemKind kind) {
  return kind == ElemKind::F16 || kind == ElemKind::BF16 ||
         kind == ElemKind::F32 || kind == ElemKind::F64;
}

const char *cprun::npyDescr(ElemKind kind) {
  switch (kind) {
  case ElemKind::F16:
    return "<f2";
  case ElemKind::BF16:
    return "<u2";
  case ElemKind::F32:
    return "<f4";
  case ElemKind::F64:
    return "<f8";
  case ElemKind::I1:
    return "|b1";
  case ElemKind::I8:
    return "|i1";
  case ElemKind::U8:
    return "|u1";
  case ElemKind::I16:
    return "<i2";
  case ElemKind::I32:
    return "<i4";
  case ElemKind::I64:
    return "<i8";
  }
  return "";
}

std::string cprun::shapeString(llvm::ArrayRef<int64_t> shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      s += ", ";
    s += std::to_string(shape[i]);
  }
  if (shape.size() == 1)
    s += ",";
  return s + ")";
}

int64_t HostTensor::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

int64_t cprun::countNonFinite(const HostTensor &t, int64_t &first) {
  if (!isFloat(t.kind))
    return 0;
  int64_t count = 0;
  for (int64_t i = 0, n = t.numElements(); i < n; ++i)
    if (!std::isfinite(t.get(i)) && count++ == 0)
      first = i;
  return count;
}

double HostTensor::get(int64_t i) const {
  const uint8_t *p = data.data() + i * elemBytes(kind);
  switch (kind) {
  case ElemKind::F16: {
    uint16_t h;
    std::memcpy(&h, p, 2);
    return cprt::f16ToFloat(h);
  }
  case ElemKind::BF16: {
    uint16_t h;
    std::memcpy(&h, p, 2);
    return cprt::bf16ToFloat(h);
  }
  case ElemKind::F32: {
    float f;
    std::memcpy(&f, p, 4);
    return f;
  }
  case ElemKind::F64: {
    double d;
    std::memcpy(&d, p, 8);
    return d;
  }
  case ElemKind::I1:
    return *p ? 1.0 : 0.0;
  case ElemKind::I8:
    return static_cast<int8_t>(*p);
  case ElemKind::U8:
    return *p;
  case ElemKind::I16: {
    int16_t v;
    std::memcpy(&v, p, 2);
    return v;
  }
  case ElemKind::I32: {
    int32_t v;
    std::memcpy(&v, p, 4);
    return v;
  }
  case ElemKind::I64: {
    int64_t v;
    std::memcpy(&v, p, 8);
    return double(v);
  }
  }
  return 0;
}

void HostTensor::set(int64_t i, double x) {
  uint8_t *p = data.data() + i * elemBytes(kind);
  switch (kind) {
  case ElemKind::F16: {
    uint16_t h = cprt::floatToF16(float(x));
    std::memcpy(p, &h, 2);
    return;
  }
  case ElemKind::BF16: {
    uint16_t h = cprt::floatToBf16(float(x));
    std::memcpy(p, &h, 2);
    return;
  }
  case ElemKind::F32: {
    float f = float(x);
    std::memcpy(p, &f, 4);
    return;
  }
  case ElemKind::F64:
    std::memcpy(p, &x, 8);
    return;
  case ElemKind::I1:
    *p = x != 0;
    return;
  case ElemKind::I8:
    *p = uint8_t(int8_t(x));
    return;
  case ElemKind::U8:
    *p = uint8_t(x);
    return;
  case ElemKind::I16: {
    int16_t v = int16_t(x);
    std::memcpy(p, &v, 2);
    return;
  }
  case ElemKind::I32: {
    int32_t v = int32_t(x);
    std::memcpy(p, &v, 4);
    return;
  }
  case ElemKind::I64: {
    int64_t v = int64_t(x);
    std::memcpy(p, &v, 8);
    return;
  }
  }
}

static llvm::Error fail(StringRef path, const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 path + ": " + msg);
}

// Parses the value that follows `'key':` in the header dict; returns the raw
// text of the value (a quoted string, True/False or a parenthesised tuple).
static bool findValue(StringRef dict, StringRef key, StringRef &value) {
  for (char q : {'\'', '"'}) {
    std::string pat = std::string(1, q) + key.str() + std::string(1, q);
    size_t at = dict.find(pat);
    if (at == StringRef::npos)
      continue;
    StringRef rest = dict.drop_front(at + pat.size()).ltrim();
    if (!rest.consume_front(":"))
      return false;
    rest = rest.ltrim();
    size_t end;
    if (rest.starts_with("'") || rest.starts_with("\"")) {
      end = rest.find(rest[0], 1);
      if (end == StringRef::npos)
        return false;
      value = rest.slice(1, end);
      return true;
    }
    if (rest.starts_with("(")) {
      end = rest.find(')');
      if (end == StringRef::npos)
        return false;
      value = rest.slice(0, end + 1);
      return true;
    }
    end = rest.find_first_of(",}");
    value = rest.slice(0, end).trim();
    return true;
  }
  return false;
}

llvm::Expected<NpyFile> cprun::readNpy(StringRef path) {
  auto buf = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                         /*RequiresNullTerminator=*/false);
  if (!buf)
    return fail(path, "cannot read: " + buf.getError().message());
  StringRef bytes = (*buf)->getBuffer();
  if (bytes.size() < 10 || !bytes.starts_with("\x93NUMPY"))
    return fail(path, "not a .npy file (bad magic; expected \\x93NUMPY)");
  unsigned major = uint8_t(bytes[6]);
  size_t headerLen, headerStart;
  if (major == 1) {
    headerLen = uint8_t(bytes[8]) | (size_t(uint8_t(bytes[9])) << 8);
    headerStart = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12)
      return fail(path, "truncated .npy header");
    headerLen = 0;
    for (int i = 0; i < 4; ++i)
      headerLen |= size_t(uint8_t(bytes[8 + i])) << (8 * i);
    headerStart = 12;
  } else {
    return fail(path, "unsupported .npy format version " + llvm::Twine(major) +
                          " (expected 1, 2 or 3)");
  }
  if (headerStart + headerLen > bytes.size())
    return fail(path, "truncated .npy header");
  StringRef dict = bytes.substr(headerStart, headerLen).trim();
  if (!dict.starts_with("{") || !dict.ends_with("}"))
    return fail(path, "malformed .npy header: " + dict);

  StringRef descr, fortran, shapeText;
  if (!findValue(dict, "descr", descr) ||
      !findValue(dict, "fortran_order", fortran) ||
      !findValue(dict, "shape", shapeText))
    return fail(path, "malformed .npy header (needs descr, fortran_order, "
                      "shape): " +
                          dict);
  if (fortran == "True")
    return fail(path, "Fortran-order arrays are not supported; save a C-order "
                      "array (numpy.ascontiguousarray)");
  if (fortran != "False")
    return fail(path, "malformed fortran_order value '" + fortran + "'");

  NpyFile file;
  file.descr = descr.str();
  static const struct {
    const char *descr;
    ElemKind kind;
  } kinds[] = {
      {"<f4", ElemKind::F32},  {"<f8", ElemKind::F64},  {"<f2", ElemKind::F16},
      {"<u2", ElemKind::BF16}, {"|V2", ElemKind::BF16}, {"<V2", ElemKind::BF16},
      {"|b1", ElemKind::I1},   {"|i1", ElemKind::I8},   {"|u1", ElemKind::U8},
      {"<i2", ElemKind::I16},  {"<i4", ElemKind::I32},  {"<i8", ElemKind::I64}};
  bool known = false;
  for (const auto &k : kinds)
    if (descr == k.descr) {
      file.tensor.kind = k.kind;
      known = true;
    }
  if (!known) {
    if (descr.starts_with(">"))
      return fail(path, "big-endian dtype '" + descr + "' is not supported");
    return fail(path, "unsupported dtype '" + descr +
                          "' (supported: <f4 <f8 <f2 <u2/|V2 (bf16 bits) |b1 "
                          "|i1 |u1 <i2 <i4 <i8)");
  }

  StringRef inner = shapeText;
  if (!inner.consume_front("(") || !inner.consume_back(")"))
    return fail(path, "malformed shape '" + shapeText + "'");
  llvm::SmallVector<StringRef> parts;
  inner.split(parts, ',', -1, /*KeepEmpty=*/false);
  for (StringRef p : parts) {
    p = p.trim();
    if (p.empty())
      continue;
    int64_t d;
    if (p.getAsInteger(10, d) || d < 0)
      return fail(path, "malformed shape '" + shapeText + "'");
    file.tensor.shape.push_back(d);
  }

  size_t dataStart = headerStart + headerLen;
  size_t have = bytes.size() - dataStart;
  // The declared size is checked against the file before anything is
  // allocated, without overflow: a header may declare any shape.
  uint64_t want = uint64_t(elemBytes(file.tensor.kind));
  for (int64_t d : file.tensor.shape)
    if (__builtin_mul_overflow(want, uint64_t(d), &want) ||
        want > uint64_t(INT64_MAX))
      return fail(path, "shape " + shapeString(file.tensor.shape) + " of " +
                            descr + " declares more than 2^63 bytes (the " +
                            "file holds " + llvm::Twine(have) +
                            " data bytes)");
  if (have != want)
    return fail(path, "data size " + llvm::Twine(have) +
                          " bytes does not match shape " +
                          shapeString(file.tensor.shape) + " of " + descr +
                          " (" + llvm::Twine(want) + " bytes)");
  file.tensor.data.assign(bytes.begin() + dataStart, bytes.end());
  if (file.tensor.kind == ElemKind::I1)
    for (uint8_t &b : file.tensor.data)
      if (b > 1)
        return fail(path, "bool array holds a byte other than 0 or 1");
  return file;
}

llvm::Error cprun::writeNpyTemp(StringRef path, const HostTensor &t,
                                std::string &tmpPath) {
  std::string dict =
      "{'descr': '" + std::string(npyDescr(t.kind)) +
      "', 'fortran_order': False, 'shape': " + shapeString(t.shape) + ", }";
  // Pad so that the data starts at a multiple of 64 bytes, ending in '\n'.
  size_t total = 10 + dict.size() + 1;
  size_t pad = (64 - total % 64) % 64;
  dict.append(pad, ' ');
  dict += '\n';
  if (dict.size() > 65535)
    return fail(path, "header too large");
  // Written to a temporary file next to `path`, renamed by commitNpy: a
  // failed or interrupted write leaves no partial file under `path`.
  int fd;
  llvm::SmallString<256> tmp;
  if (std::error_code ec = llvm::sys::fs::createUniqueFile(
          path + ".tmp-%%%%%%", fd, tmp))
    return fail(path, "cannot write: " + ec.message());
  tmpPath = std::string(tmp);
  llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
  os << "\x93NUMPY";
  os << char(1) << char(0);
  os << char(dict.size() & 0xff) << char(dict.size() >> 8);
  os << dict;
  os.write(reinterpret_cast<const char *>(t.data.data()), t.data.size());
  os.close();
  if (os.has_error()) {
    std::string msg = os.error().message();
    os.clear_error();
    llvm::sys::fs::remove(tmpPath);
    tmpPath.clear();
    return fail(path, "write failed: " + msg);
  }
  return llvm::Error::success();
}

llvm::Error cprun::commitNpy(StringRef tmpPath, StringRef path) {
  if (std::error_code ec = llvm::sys::fs::rename(tmpPath, path)) {
    llvm::sys::fs::remove(tmpPath);
    return fail(path, "cannot write: " + ec.message());
  }
  return llvm::Error::success();
}

llvm::Error cprun::checkWritable(StringRef path) {
  if (llvm::sys::fs::is_directory(path))
    return fail(path, "cannot write: is a directory");
  int fd;
  llvm::SmallString<256> tmp;
  if (std::error_code ec = llvm::sys::fs::createUniqueFile(
          path + ".tmp-%%%%%%", fd, tmp))
    return fail(path, "cannot write: " + ec.message());
  ::close(fd);
  llvm::sys::fs::remove(tmp);
  return llvm::Error::success();
}

llvm::Error cprun::writeNpy(StringRef path, const HostTensor &t) {
  std::string tmp;
  if (auto e = writeNpyTemp(path, t, tmp))
    return e;
  return commitNpy(tmp, path);
}

llvm::Expected<HostTensor> cprun::convertTo(const HostTensor &in, ElemKind kind,
                                            StringRef what) {
  if (in.kind == kind)
    return in;
  if (!isFloat(in.kind) || !isFloat(kind))
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        what + ": dtype " + npyDescr(in.kind) + " (" + elemName(in.kind) +
            ") does not match the argument's element type " + elemName(kind));
  HostTensor out;
  out.kind = kind;
  out.shape = in.shape;
  out.data.resize(size_t(in.numElements() * elemBytes(kind)));
  for (int64_t i = 0, e = in.numElements(); i < e; ++i)
    out.set(i, in.get(i));
  return out;
}
