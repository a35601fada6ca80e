// Status and Result: how every Fulcrum call reports failure. No exception crosses the
// public API; a failed call returns a Status whose message names the file, node or tensor.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace fulcrum {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,  // bad user input: wrong shape, dtype, attribute, missing input
  kNotFound,         // a file, tensor or op that does not exist
  kUnimplemented,    // valid input this build does not support (an op, a dtype)
  kParseError,       // a file that does not parse (ONNX, .npy, calibration cache)
  kIoError,          // the operating system refused a read or write
  kInternal,         // a bug in Fulcrum
};

const char* status_code_name(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok() { return {}; }
  bool is_ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "InvalidArgument: <message>"
  std::string to_string() const;

  // Returns a copy whose message is "<context>: <message>", to add where an error happened.
  Status with_context(const std::string& context) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : data_(std::move(status)) {}  // NOLINT: implicit by design

  bool is_ok() const { return std::holds_alternative<T>(data_); }
  const Status& status() const {
    static const Status kOk;
    return is_ok() ? kOk : std::get<Status>(data_);
  }
  T& value() & { return std::get<T>(data_); }
  const T& value() const& { return std::get<T>(data_); }
  T&& value() && { return std::get<T>(std::move(data_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> data_;
};

}  // namespace fulcrum

#define FULCRUM_CONCAT_INNER_(a, b) a##b
#define FULCRUM_CONCAT_(a, b) FULCRUM_CONCAT_INNER_(a, b)

// Returns the Status from the enclosing function if `expr` failed.
#define FULCRUM_RETURN_IF_ERROR(expr)                     \
  do {                                                    \
    ::fulcrum::Status fulcrum_status_ = (expr);           \
    if (!fulcrum_status_.is_ok()) return fulcrum_status_; \
  } while (0)

// `FULCRUM_ASSIGN_OR_RETURN(auto x, make_x());` declares x from a Result, or returns its error.
// It expands to several statements: never use it as the unbraced body of an if or a loop.
#define FULCRUM_ASSIGN_OR_RETURN(lhs, expr) \
  FULCRUM_ASSIGN_OR_RETURN_IMPL_(FULCRUM_CONCAT_(fulcrum_result_, __COUNTER__), lhs, expr)
#define FULCRUM_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                   \
  if (!tmp.is_ok()) return tmp.status();               \
  lhs = std::move(tmp).value()
