//===- TopologyFile.cpp - the cost model's machine from a JSON file -------===//
//
// Reads and writes the topology files of docs/cost-model.md with llvm::json.
// Every error names the file and the JSON path of the bad field; unknown
// keys are errors (a misspelt key would otherwise silently keep a default).
//
//===----------------------------------------------------------------------===//

#include "cp/Dialect/CP/Transforms/CostModel.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cmath>
#include <cstdio>

namespace mlir::cp::cost {

namespace {

namespace json = llvm::json;

/// `d` as the shortest text that reads back close ("2.5", "-3", "1e+06").
std::string show(double d) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", d);
  return buf;
}

/// The lower bound a number must respect.
enum class Bound { nonNegative, positive };

/// Reads the parts of one topology file; the first error is kept in
/// `error` ("topology file 'F': node.link_gbps: ...").
class Reader {
public:
  Reader(std::string_view file, std::string &error)
      : file(file), error(error) {}

  /// Records `message` at `path` (the first error wins); returns false.
  bool fail(const std::string &path, const std::string &message) {
    if (error.empty())
      error = "topology file '" + file + "': " +
              (path.empty() ? std::string() : path + ": ") + message;
    return false;
  }

  /// `v` as an object, or an error at `path`.
  const json::Object *object(const json::Value *v, const std::string &path) {
    if (!v) {
      fail(path, "missing (expected an object)");
      return nullptr;
    }
    const json::Object *o = v->getAsObject();
    if (!o)
      fail(path, "expected an object, got " + kindOf(*v));
    return o;
  }

  /// Fails on keys of `o` (at `path`) not in `known`; "comment" (a string)
  /// is allowed everywhere.
  bool checkKeys(const json::Object &o, const std::string &path,
                 llvm::ArrayRef<llvm::StringRef> known) {
    for (const auto &kv : o) {
      llvm::StringRef key = kv.first;
      if (key == "comment") {
        if (!kv.second.getAsString())
          return fail(join(path, key), "expected a string, got " +
                                           kindOf(kv.second));
        continue;
      }
      if (!llvm::is_contained(known, key))
        return fail(path.empty() ? "(top level)" : path, "unknown key '" + key.str() + "' (expected " +
                              llvm::join(known, ", ") + " or comment)");
    }
    return true;
  }

  /// The number `key` of `o` into `out`: missing is an error when
  /// `required` (else `out` keeps its value); it must respect `bound`.
  bool number(const json::Object &o, const std::string &path,
              llvm::StringRef key, double &out, Bound bound,
              bool required = true) {
    const json::Value *v = o.get(key);
    std::string at = join(path, key);
    if (!v)
      return required ? fail(at, "missing (expected a number)") : true;
    return numberValue(*v, at, out, bound);
  }

  /// `v` (at `path`) as a finite number respecting `bound`.
  bool numberValue(const json::Value &v, const std::string &path,
                   double &out, Bound bound) {
    std::optional<double> d = v.getAsNumber();
    if (!d)
      return fail(path, "expected a number, got " + kindOf(v));
    if (!std::isfinite(*d))
      return fail(path, "expected a finite number");
    if (bound == Bound::positive && *d <= 0)
      return fail(path, "expected a positive number, got " + show(*d));
    if (bound == Bound::nonNegative && *d < 0)
      return fail(path, "expected a number >= 0, got " + show(*d));
    out = *d;
    return true;
  }

  /// "a.b" (or "b" at the root).
  static std::string join(const std::string &path, llvm::StringRef key) {
    return path.empty() ? key.str() : path + "." + key.str();
  }

  /// "a string", "an array", ... for messages.
  static std::string kindOf(const json::Value &v) {
    switch (v.kind()) {
    case json::Value::Null:
      return "null";
    case json::Value::Boolean:
      return "a boolean";
    case json::Value::Number:
      return "a number";
    case json::Value::String:
      return "a string";
    case json::Value::Array:
      return "an array";
    case json::Value::Object:
      return "an object";
    }
    return "a value";
  }

  std::string file;
  std::string &error;
};

/// `node` or `network` at `path`: link_gbps, latency_us,
/// all_to_all_efficiency (0 < x <= 1, default 1), and with `withRanks` the
/// node's `ranks` (a whole number >= 0, default 0).
bool readLevel(Reader &r, const json::Object &o, const std::string &path,
               bool withRanks, double &gbps, double &latency, double &eff,
               int64_t *ranks) {
  llvm::SmallVector<llvm::StringRef> keys = {"link_gbps", "latency_us",
                                             "all_to_all_efficiency"};
  if (withRanks)
    keys.push_back("ranks");
  if (!r.checkKeys(o, path, keys) ||
      !r.number(o, path, "link_gbps", gbps, Bound::positive) ||
      !r.number(o, path, "latency_us", latency, Bound::nonNegative))
    return false;
  eff = 1;
  if (!r.number(o, path, "all_to_all_efficiency", eff, Bound::positive,
                /*required=*/false))
    return false;
  if (eff > 1)
    return r.fail(Reader::join(path, "all_to_all_efficiency"),
                  "expected a fraction in (0, 1], got " + show(eff));
  if (!withRanks)
    return true;
  double n = 0;
  if (!r.number(o, path, "ranks", n, Bound::nonNegative, /*required=*/false))
    return false;
  if (n != std::floor(n) || n > 1e9)
    return r.fail(Reader::join(path, "ranks"),
                  "expected a whole number, got " + show(n));
  *ranks = int64_t(n);
  return true;
}

/// One kernel (`kernel.forward` or `kernel.backward`) at `path`:
/// overhead_us and tflops, a non-empty array of [tokens, TFLOP/s] pairs
/// with strictly increasing token counts.
bool readKernel(Reader &r, const json::Object &o, const std::string &path,
                KernelTable &k) {
  if (!r.checkKeys(o, path, {"overhead_us", "tflops"}) ||
      !r.number(o, path, "overhead_us", k.overheadUs, Bound::nonNegative))
    return false;
  std::string at = Reader::join(path, "tflops");
  const json::Value *v = o.get("tflops");
  if (!v)
    return r.fail(at, "missing (expected [[tokens, TFLOP/s], ...])");
  const json::Array *rows = v->getAsArray();
  if (!rows)
    return r.fail(at, "expected an array of [tokens, TFLOP/s] pairs, got " +
                          Reader::kindOf(*v));
  if (rows->empty())
    return r.fail(at, "expected at least one [tokens, TFLOP/s] pair");
  k.tflops.clear();
  for (size_t i = 0; i < rows->size(); ++i) {
    std::string rowAt = at + "[" + std::to_string(i) + "]";
    const json::Array *pair = (*rows)[i].getAsArray();
    if (!pair || pair->size() != 2)
      return r.fail(rowAt, "expected a [tokens, TFLOP/s] pair");
    double tokens = 0, tflops = 0;
    if (!r.numberValue((*pair)[0], rowAt + "[0]", tokens, Bound::positive) ||
        !r.numberValue((*pair)[1], rowAt + "[1]", tflops, Bound::positive))
      return false;
    if (!k.tflops.empty() && tokens <= k.tflops.back().first)
      return r.fail(rowAt + "[0]", "block sizes must increase, got " +
                                       show(tokens) + " after " +
                                       show(k.tflops.back().first));
    k.tflops.push_back({tokens, tflops});
  }
  return true;
}

/// The whole file's object into `t`.
bool readTopology(Reader &r, const json::Object &root, Topology &t) {
  if (!r.checkKeys(root, "",
                   {"name", "node", "network", "kernel", "memory_gbps"}))
    return false;
  const json::Value *name = root.get("name");
  if (!name)
    return r.fail("name", "missing (expected a string)");
  if (!name->getAsString() || name->getAsString()->empty())
    return r.fail("name", "expected a non-empty string, got " +
                              Reader::kindOf(*name));
  t.name = name->getAsString()->str();
  const json::Object *node = r.object(root.get("node"), "node");
  if (!node || !readLevel(r, *node, "node", /*withRanks=*/true, t.linkGBps,
                          t.latencyUs, t.allToAllEfficiency, &t.ranksPerNode))
    return false;
  const json::Value *net = root.get("network");
  if (t.ranksPerNode > 0 || net) {
    if (t.ranksPerNode == 0)
      return r.fail("network", "given, but node.ranks is 0 or missing (every "
                               "rank in one node); set node.ranks");
    const json::Object *o = r.object(net, "network");
    if (!o || !readLevel(r, *o, "network", /*withRanks=*/false,
                         t.interNodeGBps, t.interNodeLatencyUs,
                         t.interNodeAllToAllEfficiency, nullptr))
      return false;
  }
  const json::Object *kernel = r.object(root.get("kernel"), "kernel");
  if (!kernel ||
      !r.checkKeys(*kernel, "kernel", {"heads", "forward", "backward"}) ||
      !r.number(*kernel, "kernel", "heads", t.kernelHeads, Bound::positive,
                /*required=*/false))
    return false;
  for (auto [key, table] : {std::pair{"forward", &t.forward},
                            std::pair{"backward", &t.backward}}) {
    std::string at = std::string("kernel.") + key;
    const json::Object *o = r.object(kernel->get(key), at);
    if (!o || !readKernel(r, *o, at, *table))
      return false;
  }
  return r.number(root, "", "memory_gbps", t.memoryGBps, Bound::positive);
}

} // namespace

std::optional<Topology> parseTopology(std::string_view text,
                                      std::string_view fileName,
                                      std::string &error) {
  error.clear();
  Reader r(fileName, error);
  llvm::Expected<json::Value> v = json::parse(llvm::StringRef(text));
  if (!v) {
    r.fail("", "invalid JSON: " + llvm::toString(v.takeError()));
    return std::nullopt;
  }
  const json::Object *root = r.object(&*v, "(top level)");
  Topology t;
  t.source = std::string(fileName);
  if (!root || !readTopology(r, *root, t))
    return std::nullopt;
  return t;
}

std::optional<Topology> loadTopology(std::string_view nameOrPath,
                                     std::string &error) {
  error.clear();
  if (std::optional<Topology> t = builtinTopology(nameOrPath))
    return t;
  auto buffer = llvm::MemoryBuffer::getFile(llvm::StringRef(nameOrPath),
                                            /*IsText=*/true);
  if (!buffer) {
    std::vector<std::string> names = builtinTopologyNames();
    error = "topology '" + std::string(nameOrPath) +
            "' is neither a built-in (" + llvm::join(names, ", ") +
            ") nor a readable JSON file: " + buffer.getError().message();
    return std::nullopt;
  }
  return parseTopology((*buffer)->getBuffer(), nameOrPath, error);
}

/// A kernel table as {"overhead_us": .., "tflops": [[tokens, TFLOP/s], ..]}.
static json::Value kernelToJSON(const KernelTable &k) {
  json::Array rows;
  for (auto [tokens, tflops] : k.tflops)
    rows.push_back(json::Array{tokens, tflops});
  return json::Object{{"overhead_us", k.overheadUs},
                      {"tflops", std::move(rows)}};
}

std::string topologyToJSON(const Topology &t) {
  json::Object node{{"link_gbps", t.linkGBps},
                    {"latency_us", t.latencyUs},
                    {"all_to_all_efficiency", t.allToAllEfficiency}};
  json::Object kernel{{"forward", kernelToJSON(t.forward)},
                      {"backward", kernelToJSON(t.backward)}};
  if (t.kernelHeads > 0)
    kernel["heads"] = t.kernelHeads;
  json::Object root{{"name", t.name},
                    {"kernel", std::move(kernel)},
                    {"memory_gbps", t.memoryGBps}};
  if (t.ranksPerNode > 0) {
    node["ranks"] = t.ranksPerNode;
    root["network"] =
        json::Object{{"link_gbps", t.interNodeGBps},
                     {"latency_us", t.interNodeLatencyUs},
                     {"all_to_all_efficiency", t.interNodeAllToAllEfficiency}};
  }
  root["node"] = std::move(node);
  return llvm::formatv("{0:2}", json::Value(std::move(root))).str() + "\n";
}

} // namespace mlir::cp::cost
