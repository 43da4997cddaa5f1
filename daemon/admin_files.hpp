#pragma once
/// Files named by admin arguments (`path`, `output`, `reject_file`): CONTRACT.md "Admin socket
/// protocol". A path is taken only when `admin.files_dir` is set and the path, resolved without
/// following any symlink, lies inside it; files are created new (O_EXCL), never truncated.
/// Descriptors passed with a request (what dialerctl does) need none of this. Also the daemon's
/// own scratch files (a reject file before it is copied into the passed descriptor).

#include "api/admin/unique_fd.hpp"
#include "core/errc.hpp"

#include <filesystem>
#include <string>
#include <string_view>

namespace dialer::daemon {

/// A file opened inside files_dir, with what is needed to remove it again (a created file whose
/// command failed).
struct ConfinedFile {
  admin::UniqueFd fd;
  admin::UniqueFd dir;  ///< the directory that holds it
  std::string name;     ///< its name in `dir`
  std::string path;     ///< as the operator gave it, for messages
};

/// Opens `path` for reading inside `files_dir`. Refused (errc::invalid_argument, naming the
/// argument and the rule) when files_dir is empty, the path is not absolute, leaves files_dir
/// ("..", another prefix), or passes through a symlink; errc::io_error when it cannot be opened.
Result<ConfinedFile> open_confined_for_reading(std::string_view files_dir,
                                               std::string_view argument, const std::string& path);

/// Creates `path` inside `files_dir` as a new file (O_CREAT | O_EXCL, mode 0640): an existing
/// file, symlink or not, is never opened, truncated or replaced. Same refusals as above.
Result<ConfinedFile> create_confined(std::string_view files_dir, std::string_view argument,
                                     const std::string& path);

/// Removes a file made by create_confined (when the command that made it failed).
void remove_confined(ConfinedFile& file);

/// Copies the file `from` into the descriptor `to` (not closed), through store::FdWriter: a
/// reader that accepts nothing for a minute fails the copy.
Result<void> copy_file_to_fd(const std::filesystem::path& from, int to);

/// A fresh, unused path in `dir` (the file is created empty to reserve the name).
Result<std::filesystem::path> scratch_file(const std::filesystem::path& dir, std::string_view stem);

}  // namespace dialer::daemon
