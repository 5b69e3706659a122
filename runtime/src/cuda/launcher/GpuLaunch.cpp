//===- GpuLaunch.cpp - Runs a module compiled for the GPU (cprt-gpu-run) --===//
//
// Links with an object from `cp-run ... --backend cuda --emit-object` and
// the glue CMake generates from its header (CpGlue.h), and runs the entry:
//
//   cprt-gpu-run --inputs x.npy[,y.npy] [--expect out.npy[,out1.npy]]...
//                [--outputs o.npy] [--ranks N] [--iters K] [--rtol R] [--atol A]
//   (NCCL, one process per GPU:) --nccl-rank R --nccl-world W --nccl-id FILE
//
// Whole inputs are read on the host, sharded with the header's sharding
// (the runtime's load-balancer layout; per_document_head_tail's by the
// document ids of the header's <ENTRY>_DOCUMENTS_INPUT, which is passed
// whole), copied to device memory; the entry
// runs on each rank (virtual ranks: threads sharing this GPU); local results
// are copied back and unsharded, then compared with --expect (one .npy per
// result, in order; an empty entry skips a result; --expect may be given
// more than once, e.g. PyTorch's output and a single-device run). Prints the
// time of each phase; exit status 0 ok, 1 run-time error, 2 usage / input
// error, 4 outside tolerance.
//
//===----------------------------------------------------------------------===//
#include "CpGlue.h"
#include "cprt/Half.h"
#include "cprt/cprt.h"
#include "cprt/cprt_compiler.h"
#include "cprt/cuda/cprt_gpu_compiled.h"

#include <cuda_runtime_api.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
double msSince(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

[[noreturn]] void die(int code, const std::string &msg) {
  std::fprintf(stderr, "cprt-gpu-run: error: %s\n", msg.c_str());
  std::exit(code);
}

struct Npy {
  std::string descr;
  std::vector<int64_t> shape;
  std::vector<char> data;
};

/// Minimal .npy reader (version 1-3, C order).
Npy readNpy(const std::string &path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) die(2, path + ": cannot open");
  char magic[8];
  f.read(magic, 8);
  if (!f || std::memcmp(magic, "\x93NUMPY", 6) != 0) die(2, path + ": not a .npy file");
  uint32_t hlen = 0;
  if (magic[6] == 1) {
    uint16_t h;
    f.read(reinterpret_cast<char *>(&h), 2);
    hlen = h;
  } else {
    f.read(reinterpret_cast<char *>(&hlen), 4);
  }
  std::string header(hlen, '\0');
  f.read(header.data(), hlen);
  Npy n;
  auto field = [&](const char *key) {
    size_t p = header.find(key);
    if (p == std::string::npos) die(2, path + ": header has no " + key);
    return p + std::strlen(key);
  };
  size_t d = header.find('\'', field("'descr':"));
  n.descr = header.substr(d + 1, header.find('\'', d + 1) - d - 1);
  if (header.find("True", field("'fortran_order':")) < header.find(',', field("'fortran_order':")))
    die(2, path + ": Fortran order is not supported");
  size_t s = header.find('(', field("'shape':")), e = header.find(')', s);
  std::stringstream ss(header.substr(s + 1, e - s - 1));
  std::string tok;
  while (std::getline(ss, tok, ','))
    if (tok.find_first_not_of(' ') != std::string::npos) n.shape.push_back(std::stoll(tok));
  int64_t count = 1;
  for (int64_t x : n.shape) count *= x;
  int64_t eb = std::stoll(n.descr.substr(2));
  n.data.resize(size_t(count * eb));
  f.read(n.data.data(), std::streamsize(n.data.size()));
  if (!f) die(2, path + ": truncated data");
  return n;
}

void writeNpy(const std::string &path, const std::string &descr, const std::vector<int64_t> &shape,
              const std::vector<char> &data) {
  std::string dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (";
  for (int64_t x : shape) dict += std::to_string(x) + ", ";
  dict += "), }";
  while ((10 + dict.size() + 1) % 64) dict += ' ';
  dict += '\n';
  std::ofstream f(path, std::ios::binary);
  uint16_t h = uint16_t(dict.size());
  f.write("\x93NUMPY\x01\x00", 8);
  f.write(reinterpret_cast<const char *>(&h), 2);
  f << dict;
  f.write(data.data(), std::streamsize(data.size()));
  if (!f) die(1, path + ": cannot write");
}

const char *npyDescrOf(const cp_aot_tensor &t) {
  std::string d = t.dtype;
  if (d == "f32") return "<f4";
  if (d == "f64") return "<f8";
  if (d == "f16") return "<f2";
  if (d == "bf16") return "<u2";
  if (d == "i64") return "<i8";
  if (d == "i32") return "<i4";
  if (d == "i1") return "|b1"; // numpy's bool
  return "|i1";
}

double valueAt(const std::string &dtype, const char *p, int64_t i) {
  if (dtype == "f32") return reinterpret_cast<const float *>(p)[i];
  if (dtype == "f64") return reinterpret_cast<const double *>(p)[i];
  if (dtype == "bf16") return cprt::bf16ToFloat(reinterpret_cast<const uint16_t *>(p)[i]);
  if (dtype == "f16") return cprt::f16ToFloat(reinterpret_cast<const uint16_t *>(p)[i]);
  if (dtype == "i64") return double(reinterpret_cast<const int64_t *>(p)[i]);
  if (dtype == "i32") return double(reinterpret_cast<const int32_t *>(p)[i]);
  return NAN; // compared as raw bytes elsewhere
}

struct Options {
  std::vector<std::string> inputs, outputs;
  std::vector<std::vector<std::string>> expect; // per --expect: one per result
  std::string ncclId;
  int ranks = 0, iters = 0, ncclRank = -1, ncclWorld = 0;
  double rtol = 1e-4, atol = 1e-5;
};

/// Comma-separated items; `keepEmpty`: "a,,c" keeps the empty middle item.
std::vector<std::string> splitList(const std::string &s, bool keepEmpty = false) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string tok;
  while (std::getline(ss, tok, ','))
    if (keepEmpty || !tok.empty()) out.push_back(tok);
  return out;
}

Options parse(int argc, char **argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) die(2, a + " needs a value");
      return argv[++i];
    };
    if (a == "--inputs") o.inputs = splitList(next());
    else if (a == "--outputs") o.outputs = splitList(next());
    else if (a == "--expect") o.expect.push_back(splitList(next(), true));
    else if (a == "--ranks") o.ranks = std::atoi(next().c_str());
    else if (a == "--iters") o.iters = std::atoi(next().c_str());
    else if (a == "--rtol") o.rtol = std::atof(next().c_str());
    else if (a == "--atol") o.atol = std::atof(next().c_str());
    else if (a == "--nccl-rank") o.ncclRank = std::atoi(next().c_str());
    else if (a == "--nccl-world") o.ncclWorld = std::atoi(next().c_str());
    else if (a == "--nccl-id") o.ncclId = next();
    else die(2, "unknown argument '" + a + "' (see the comment at the top of GpuLaunch.cpp)");
  }
  return o;
}

int64_t numel(const int64_t *shape, int rank) {
  int64_t n = 1;
  for (int i = 0; i < rank; ++i) n *= shape[i];
  return n;
}

/// Rows of [outer][S][inner] that `rank` holds (slot -> position, -1 pad);
/// per_document_head_tail lays them out by `docs` (the whole sequence's
/// ids), whose layout must have the local length the module was built for.
std::vector<int64_t> positions(const cp_aot_tensor &t, const std::vector<int32_t> &docs,
                               int64_t &localLen) {
  localLen = 0;
  const int32_t *ids = nullptr;
  if (t.balancer == CPRT_BALANCE_PER_DOCUMENT_HEAD_TAIL) {
    if (int64_t(docs.size()) != t.seq_len)
      die(2, "a per_document_head_tail input needs the document ids of the whole sequence (" +
                 std::to_string(t.seq_len) + "; the module marks none, or they have " +
                 std::to_string(docs.size()) + ")");
    ids = docs.data();
  }
  if (cprt_layout(cprt_balancer(t.balancer), t.seq_len, ids, &localLen, nullptr) != CPRT_OK)
    die(1, std::string("layout: ") + cprt_last_error());
  if (ids && localLen != t.local_shape[t.shard_dim])
    die(2, "the module was built for " + std::to_string(t.local_shape[t.shard_dim]) +
               " local tokens per rank, but the layout of these inputs has " +
               std::to_string(localLen));
  std::vector<int64_t> pos(static_cast<size_t>(localLen));
  cprt_layout(cprt_balancer(t.balancer), t.seq_len, ids, &localLen, pos.data());
  return pos;
}

/// The whole sequence's document ids (input cp_glue_documents_input, i32 or
/// i64) as the runtime's i32; empty when the module has none.
std::vector<int32_t> documentIds(const std::vector<Npy> &inputs) {
  std::vector<int32_t> docs;
  if (cp_glue_documents_input < 0) return docs;
  const cp_aot_tensor &t = cp_glue_inputs[cp_glue_documents_input];
  const Npy &n = inputs[size_t(cp_glue_documents_input)];
  const int64_t count = numel(t.global_shape, t.rank);
  if (t.elem_bytes != 4 && t.elem_bytes != 8)
    die(2, "document ids (input #" + std::to_string(cp_glue_documents_input) +
               "): expected i32 or i64");
  for (int64_t e = 0; e < count; ++e) {
    const char *p = n.data.data() + e * t.elem_bytes;
    if (t.elem_bytes == 4) {
      int32_t v;
      std::memcpy(&v, p, 4);
      docs.push_back(v);
    } else {
      int64_t v;
      std::memcpy(&v, p, 8);
      docs.push_back(int32_t(v));
    }
  }
  return docs;
}

void splitDims(const cp_aot_tensor &t, int64_t &outer, int64_t &inner) {
  outer = inner = 1;
  for (int i = 0; i < t.shard_dim; ++i) outer *= t.global_shape[i];
  for (int i = t.shard_dim + 1; i < t.rank; ++i) inner *= t.global_shape[i];
  inner *= t.elem_bytes;
}

/// A memref descriptor {allocated, aligned, offset, sizes[R], strides[R]}.
std::vector<int64_t> descriptor(void *dev, const cp_aot_tensor &t) {
  std::vector<int64_t> d(size_t(3 + 2 * t.rank));
  d[0] = d[1] = int64_t(reinterpret_cast<intptr_t>(dev));
  d[2] = 0;
  int64_t stride = 1;
  for (int i = t.rank - 1; i >= 0; --i) {
    d[size_t(3 + i)] = t.local_shape[i];
    d[size_t(3 + t.rank + i)] = stride;
    stride *= t.local_shape[i];
  }
  return d;
}

struct Job {
  Options opts;
  std::vector<Npy> inputs;
  std::vector<std::vector<char>> results; // whole outputs (host)
  std::vector<std::vector<char>> written;   // per result: elements some rank wrote
  std::mutex mu;
  std::vector<std::string> timing;
  int world = 1;
  bool perRankCheck = false; // NCCL: each process checks its own rows
};

void check(bool ok, const std::string &what) {
  if (!ok) throw std::runtime_error(what);
}
void cuda(cudaError_t e, const char *what) {
  if (e != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(e));
}

void runEntry(Job &job, cudaStream_t st, std::vector<void *> &args, int rank, double &ms) {
  auto t = Clock::now();
  cp_glue_call(args.data());
  check(!cprt_c_failed(), std::string("compiled code: ") + cprt_c_error());
  check(!cprt_gpu_failed(), std::string("compiled code: ") + cprt_gpu_error());
  cuda(cudaStreamSynchronize(st), "compiled code (asynchronous error)");
  ms = msSince(t);
}

void rankMain(int rank, int world, void *stream, void *user) {
  Job &job = *static_cast<Job *>(user);
  cudaStream_t st = static_cast<cudaStream_t>(stream);
  std::ostringstream log;
  auto t0 = Clock::now();
  // ---- shard + upload ----
  const std::vector<int32_t> docs = documentIds(job.inputs);
  std::vector<void *> dev;
  std::vector<std::vector<int64_t>> descs;
  for (int i = 0; i < cp_glue_num_inputs; ++i) {
    const cp_aot_tensor &t = cp_glue_inputs[i];
    const Npy &n = job.inputs[size_t(i)];
    size_t bytes = size_t(numel(t.local_shape, t.rank) * t.elem_bytes);
    std::vector<char> local(bytes, 0);
    if (t.shard_dim < 0) {
      local = n.data;
    } else {
      int64_t L, outer, inner;
      std::vector<int64_t> pos = positions(t, docs, L);
      splitDims(t, outer, inner);
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t s = 0; s < L; ++s)
          if (pos[size_t(s)] >= 0)
            std::memcpy(&local[size_t((o * L + s) * inner)],
                        &n.data[size_t((o * t.seq_len + pos[size_t(s)]) * inner)], size_t(inner));
    }
    void *p = nullptr;
    cuda(cudaMallocAsync(&p, bytes, st), "input allocation");
    cuda(cudaMemcpyAsync(p, local.data(), bytes, cudaMemcpyHostToDevice, st), "input upload");
    dev.push_back(p);
    descs.push_back(descriptor(p, t));
  }
  for (int i = 0; i < cp_glue_num_outputs; ++i) {
    const cp_aot_tensor &t = cp_glue_outputs[i];
    size_t bytes = size_t(numel(t.local_shape, t.rank) * t.elem_bytes);
    void *p = nullptr;
    cuda(cudaMallocAsync(&p, bytes, st), "output allocation");
    cuda(cudaMemsetAsync(p, 0xff, bytes, st), "output poison (NaN)");
    dev.push_back(p);
    descs.push_back(descriptor(p, t));
  }
  cuda(cudaStreamSynchronize(st), "upload");
  std::vector<void *> args;
  for (auto &d : descs) args.push_back(d.data());
  log << "rank " << rank << ": shard+upload " << msSince(t0) << " ms";

  // ---- run ----
  double first = 0, ms = 0, total = 0;
  runEntry(job, st, args, rank, first);
  int64_t launches, calls, now0, peak;
  cprt_gpu_stats(&launches, &calls, &now0, &peak);
  size_t free0 = 0, tot = 0;
  cudaMemGetInfo(&free0, &tot);
  for (int k = 0; k < job.opts.iters; ++k) {
    runEntry(job, st, args, rank, ms);
    total += ms;
  }
  int64_t now1;
  cprt_gpu_stats(nullptr, nullptr, &now1, &peak);
  size_t free1 = 0;
  cudaMemGetInfo(&free1, &tot);
  log << ", first call " << first << " ms (" << launches << " kernel launches, " << calls
      << " runtime calls)";
  if (job.opts.iters > 0)
    log << ", mean of " << job.opts.iters << " calls " << total / job.opts.iters << " ms";
  log << ", compiled-code device memory peak " << double(peak) / 1048576.0
      << " MiB, live after the calls " << now1 << " B";
  if (job.opts.iters > 0)
    log << ", device free memory change over the calls "
        << (double(free0) - double(free1)) / 1048576.0 << " MiB";

  // ---- download + unshard ----
  auto t2 = Clock::now();
  for (int i = 0; i < cp_glue_num_outputs; ++i) {
    const cp_aot_tensor &t = cp_glue_outputs[i];
    size_t bytes = size_t(numel(t.local_shape, t.rank) * t.elem_bytes);
    std::vector<char> local(bytes);
    cuda(cudaMemcpy(local.data(), dev[size_t(cp_glue_num_inputs + i)], bytes,
                    cudaMemcpyDeviceToHost),
         "output download");
    std::lock_guard<std::mutex> lock(job.mu);
    std::vector<char> &whole = job.results[size_t(i)];
    if (t.shard_dim < 0) {
      if (rank == 0 || job.perRankCheck) whole = local;
      std::fill(job.written[size_t(i)].begin(), job.written[size_t(i)].end(), 1);
      continue;
    }
    int64_t L, outer, inner;
    std::vector<int64_t> pos = positions(t, docs, L);
    splitDims(t, outer, inner);
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t s = 0; s < L; ++s)
        if (pos[size_t(s)] >= 0) {
          size_t at = size_t((o * t.seq_len + pos[size_t(s)]) * inner);
          std::memcpy(&whole[at], &local[size_t((o * L + s) * inner)], size_t(inner));
          std::fill_n(job.written[size_t(i)].begin() + at / size_t(t.elem_bytes),
                      size_t(inner / t.elem_bytes), 1);
        }
  }
  for (void *p : dev) cudaFreeAsync(p, st);
  cudaStreamSynchronize(st);
  log << ", download+unshard " << msSince(t2) << " ms";
  std::lock_guard<std::mutex> lock(job.mu);
  job.timing.push_back(log.str());
}

/// Compares result #k with the .npy at `path`; returns the exit status.
int compare(Job &job, int k, const std::string &path) {
  const cp_aot_tensor &t = cp_glue_outputs[k];
  Npy ref = readNpy(path);
  int64_t n = numel(t.global_shape, t.rank);
  if (numel(ref.shape.data(), int(ref.shape.size())) != n)
    die(2, path + ": element count does not match result #" + std::to_string(k));
  std::string dt = t.dtype;
  std::string rdt = ref.descr == "<f4" ? "f32" : ref.descr == "<f8" ? "f64" : dt;
  const char *got = job.results[size_t(k)].data();
  const std::vector<char> &written = job.written[size_t(k)];
  double maxErr = 0, num = 0, den = 0;
  int64_t bad = 0, nan = 0, skipped = 0;
  for (int64_t i = 0; i < n; ++i) {
    // NCCL: this process holds only its own rows and checks those; with
    // virtual ranks every element must have been written.
    if (!written[size_t(i)]) {
      if (job.perRankCheck) { ++skipped; continue; }
      ++nan;
      continue;
    }
    double g = valueAt(dt, got, i), r = valueAt(rdt, ref.data.data(), i);
    if (std::isnan(g)) { ++nan; continue; }
    double e = std::fabs(g - r);
    maxErr = std::max(maxErr, e);
    num += e * e;
    den += r * r;
    if (e > job.opts.atol + job.opts.rtol * std::fabs(r)) ++bad;
  }
  double rel = den > 0 ? std::sqrt(num / den) : std::sqrt(num);
  bool ok = bad == 0 && nan == 0;
  std::printf("result #%d vs %s %s[%lld elements]: max abs err %.3g, rel L2 %.3g, "
              "%lld beyond atol %.1g + rtol %.1g, %lld NaN or unwritten%s: %s\n",
              k, path.c_str(), dt.c_str(), (long long)(n - skipped), maxErr, rel,
              (long long)bad, job.opts.atol, job.opts.rtol, (long long)nan,
              skipped ? " (this rank's rows only)" : "", ok ? "ok" : "FAILED");
  return ok ? 0 : 4;
}

} // namespace

int main(int argc, char **argv) {
  Options opts = parse(argc, argv);
  Job job;
  job.opts = opts;
  auto t0 = Clock::now();
  if (int(opts.inputs.size()) != cp_glue_num_inputs)
    die(2, std::string("@") + cp_glue_entry + " takes " + std::to_string(cp_glue_num_inputs) +
               " input(s), --inputs gave " + std::to_string(opts.inputs.size()));
  for (int i = 0; i < cp_glue_num_inputs; ++i) {
    const cp_aot_tensor &t = cp_glue_inputs[i];
    Npy n = readNpy(opts.inputs[size_t(i)]);
    bool shapeOk = int(n.shape.size()) == t.rank;
    for (int d = 0; shapeOk && d < t.rank; ++d) shapeOk = n.shape[size_t(d)] == t.global_shape[d];
    // Booleans: numpy's |b1, or bytes (|u1) as earlier versions took them.
    bool descrOk = n.descr == npyDescrOf(t) || (std::string(t.dtype) == "i1" && n.descr == "|u1");
    if (!shapeOk || !descrOk)
      die(2, opts.inputs[size_t(i)] + ": expected " + npyDescrOf(t) + " with the whole shape " +
                 "of argument #" + std::to_string(i) + " of @" + cp_glue_entry +
                 " (descr " + n.descr + ")");
    job.inputs.push_back(std::move(n));
  }
  for (int i = 0; i < cp_glue_num_outputs; ++i) {
    const cp_aot_tensor &t = cp_glue_outputs[i];
    std::vector<char> whole(size_t(numel(t.global_shape, t.rank) * t.elem_bytes));
    std::memset(whole.data(), 0xff, whole.size()); // NaN where no rank wrote
    job.results.push_back(std::move(whole));
  }
  for (int i = 0; i < cp_glue_num_outputs; ++i)
    job.written.emplace_back(size_t(numel(cp_glue_outputs[i].global_shape, cp_glue_outputs[i].rank)),
                             0);
  for (const std::vector<std::string> &set : opts.expect)
    if (int(set.size()) > cp_glue_num_outputs)
      die(2, "--expect lists " + std::to_string(set.size()) + " files, @" + cp_glue_entry +
                 " has " + std::to_string(cp_glue_num_outputs) + " result(s)");
  double readMs = msSince(t0);
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0)
    die(1, "no CUDA device visible (cudaGetDeviceCount)");

  int world = opts.ncclWorld > 0 ? opts.ncclWorld : (opts.ranks > 0 ? opts.ranks : 1);
  if (cp_glue_grid_size > 0 && world != cp_glue_grid_size)
    die(2, std::string("@") + cp_glue_entry + " was compiled for " +
               std::to_string(cp_glue_grid_size) + " ranks, not " + std::to_string(world));
  auto t1 = Clock::now();
  int st;
  if (opts.ncclWorld > 0) {
    if (opts.ncclRank < 0 || opts.ncclId.empty())
      die(2, "NCCL needs --nccl-rank, --nccl-world and --nccl-id");
    job.perRankCheck = opts.ncclWorld > 1;
    st = cprt_gpu_run_nccl_rank(opts.ncclRank, opts.ncclWorld, -1, opts.ncclId.c_str(),
                                rankMain, &job, 60000);
  } else {
    st = cprt_gpu_run_virtual_ranks(world, rankMain, &job, 60000);
  }
  if (st != CPRT_OK) die(1, std::string("run failed: ") + cprt_gpu_error());
  double runMs = msSince(t1);
  std::printf("cprt-gpu-run @%s: %d rank(s) (%s), read inputs %.1f ms, ranks total %.1f ms\n",
              cp_glue_entry, world, opts.ncclWorld > 0 ? "NCCL" : "virtual ranks on one GPU",
              readMs, runMs);
  for (const std::string &l : job.timing) std::printf("  %s\n", l.c_str());
  for (size_t i = 0; i < opts.outputs.size() && int(i) < cp_glue_num_outputs; ++i) {
    const cp_aot_tensor &t = cp_glue_outputs[i];
    writeNpy(opts.outputs[i], npyDescrOf(t),
             std::vector<int64_t>(t.global_shape, t.global_shape + t.rank), job.results[i]);
  }
  int rc = 0;
  for (const std::vector<std::string> &set : opts.expect)
    for (size_t k = 0; k < set.size(); ++k)
      if (!set[k].empty()) rc = std::max(rc, compare(job, int(k), set[k]));
  return rc;
}
