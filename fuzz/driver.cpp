// Replays fuzz inputs through a target's LLVMFuzzerTestOneInput without libFuzzer (gcc builds, ctest).
//
// Usage: <target>_replay FILE_OR_DIR...   Runs every file (a directory's regular files in name
// order) once; a broken claim aborts inside the target as it would under libFuzzer. An input
// the target rejects (returns -1) fails the run: a seed must be an input the target accepts.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <system_error>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
extern "C" __attribute__((weak)) int LLVMFuzzerInitialize(int* argc, char*** argv);

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s FILE_OR_DIR...\n", argv[0]);
    return 2;
  }
  if (LLVMFuzzerInitialize) LLVMFuzzerInitialize(&argc, &argv);
  std::vector<std::filesystem::path> files;
  for (int i = 1; i < argc; i++) {
    std::error_code ec;
    const std::filesystem::path p = argv[i];
    if (std::filesystem::is_directory(p, ec)) {
      std::vector<std::filesystem::path> in_dir;
      for (const auto& entry : std::filesystem::directory_iterator(p, ec))
        if (entry.is_regular_file()) in_dir.push_back(entry.path());
      std::sort(in_dir.begin(), in_dir.end());
      files.insert(files.end(), in_dir.begin(), in_dir.end());
    } else {
      files.push_back(p);
    }
  }
  int status = 0;
  for (const auto& file : files) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "%s: error: cannot open the file\n", file.c_str());
      status = 2;
      continue;
    }
    const std::vector<uint8_t> data((std::istreambuf_iterator<char>(in)),
                                    std::istreambuf_iterator<char>());
    if (LLVMFuzzerTestOneInput(data.data(), data.size()) != 0) {
      std::fprintf(stderr, "%s: rejected by the target (not an input it accepts)\n", file.c_str());
      status = 1;
      continue;
    }
    std::printf("%s: ok (%zu bytes)\n", file.c_str(), data.size());
  }
  return status;
}
