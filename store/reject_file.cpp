#include "store/reject_file.hpp"

#include "store/csv_reader.hpp"
#include "store/import_report.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <csv.h>
#include <sys/stat.h>
#include <unistd.h>

namespace dialer::store {

Result<std::unique_ptr<RejectFile>> RejectFile::open(const std::filesystem::path& path,
                                                     const std::vector<std::string>& headers,
                                                     char delimiter) {
  auto dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path{"."};
  std::string tmpl = (dir / ("." + path.filename().string() + ".XXXXXX")).string();
  int fd = ::mkstemp(tmpl.data());
  if (fd < 0) {
    return Error{errc::io_error,
                 "cannot create the reject file in " + dir.string() + ": " + std::strerror(errno)};
  }
  ::fchmod(fd, 0640);
  FILE* f = ::fdopen(fd, "w");
  if (f == nullptr) {
    ::close(fd);
    ::unlink(tmpl.c_str());
    return Error{errc::io_error,
                 "cannot open the reject file: " + std::string{std::strerror(errno)}};
  }
  auto out = std::unique_ptr<RejectFile>(new RejectFile(path, tmpl, f, delimiter));
  const auto taken = [&](std::string_view name) {
    return std::any_of(headers.begin(), headers.end(),
                       [&](const std::string& h) { return normalize_header(h) == name; });
  };
  std::vector<std::string_view> fields(headers.begin(), headers.end());
  out->count_ = headers.size();
  out->write_row(fields, taken("line") ? "reject_line" : "line",
                 taken("reason") ? "reject_reason" : "reason");
  return out;
}

RejectFile::~RejectFile() {
  if (file_ != nullptr) std::fclose(file_);
  if (!renamed_) ::unlink(temp_.c_str());
}

void RejectFile::write(std::span<const std::string_view> fields, std::uint64_t line,
                       std::string_view reason) {
  write_row(fields, std::to_string(line), reason);
}

void RejectFile::write_row(std::span<const std::string_view> fields, std::string_view line,
                           std::string_view reason) {
  for (std::size_t i = 0; i < count_; ++i) {
    write_field(i < fields.size() ? fields[i] : std::string_view{});
    std::fputc(delimiter_, file_);
  }
  write_field(line);
  std::fputc(delimiter_, file_);
  write_field(reason);
  std::fputs("\r\n", file_);
}

Result<void> RejectFile::commit() {
  bool ok = std::fflush(file_) == 0 && ::fsync(::fileno(file_)) == 0;
  ok = std::fclose(file_) == 0 && ok;
  file_ = nullptr;
  if (!ok || ::rename(temp_.c_str(), path_.c_str()) != 0) {
    return Error{errc::io_error,
                 "cannot write the reject file " + path_.string() + ": " + std::strerror(errno)};
  }
  renamed_ = true;
  return {};
}

void RejectFile::discard() noexcept {
  if (renamed_) ::unlink(path_.c_str());
}

void RejectFile::write_field(std::string_view v) {
  bool needs_quotes = v.find_first_of("\"\r\n") != std::string_view::npos ||
                      v.find(delimiter_) != std::string_view::npos ||
                      (!v.empty() && (is_csv_space(v.front()) || is_csv_space(v.back())));
  if (needs_quotes) {
    csv_fwrite(file_, v.data(), v.size());  // libcsv's RFC 4180 quoting
  } else {
    std::fwrite(v.data(), 1, v.size(), file_);
  }
}

}  // namespace dialer::store
