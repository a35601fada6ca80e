#include "ops/matmul.h"

#include <algorithm>
#include <cctype>
#include <map>

#include "core/error.h"

namespace fulcrum::ops {
namespace {

void fill_gemm(AttrReader& r, int64_t, GemmAttrs& a) {
  a.alpha = r.f("alpha", 1.0f);
  a.beta = r.f("beta", 1.0f);
  a.trans_a = r.i("transA", 0) != 0;
  a.trans_b = r.i("transB", 0) != 0;
}

// One term of an equation: letters plus at most one "..." (written as kEllipsis).
Result<std::string> parse_term(const std::string& text) {
  std::string term;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (std::isalpha(static_cast<unsigned char>(c))) {
      term.push_back(c);
    } else if (text.compare(i, 3, "...") == 0) {
      if (term.find(EinsumAttrs::kEllipsis) != std::string::npos)
        return invalid_argument("Einsum term '{}' has more than one ellipsis", text);
      term.push_back(EinsumAttrs::kEllipsis);
      i += 2;
    } else {
      return invalid_argument("Einsum term '{}' has an invalid character '{}'", text, c);
    }
  }
  return term;
}

// numpy's implicit output: the ellipsis first, then the labels used exactly once, sorted.
std::string implicit_output(const std::vector<std::string>& inputs) {
  std::map<char, int> count;
  bool ellipsis = false;
  for (const std::string& t : inputs)
    for (char c : t) {
      if (c == EinsumAttrs::kEllipsis)
        ellipsis = true;
      else
        ++count[c];
    }
  std::string out = ellipsis ? std::string(1, EinsumAttrs::kEllipsis) : "";
  for (const auto& [c, n] : count)
    if (n == 1) out.push_back(c);
  return out;
}

Status parse_equation(const std::string& equation, EinsumAttrs& a) {
  std::string eq;
  for (char c : equation)
    if (!std::isspace(static_cast<unsigned char>(c))) eq.push_back(c);
  const size_t arrow = eq.find("->");
  const std::string lhs = eq.substr(0, arrow);
  size_t start = 0;
  while (true) {
    const size_t comma = lhs.find(',', start);
    FULCRUM_ASSIGN_OR_RETURN(std::string term, parse_term(lhs.substr(start, comma - start)));
    a.inputs.push_back(term);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (arrow == std::string::npos) {
    a.output = implicit_output(a.inputs);
    return Status::ok();
  }
  FULCRUM_ASSIGN_OR_RETURN(a.output, parse_term(eq.substr(arrow + 2)));
  for (char c : a.output) {
    if (std::count(a.output.begin(), a.output.end(), c) > 1)
      return invalid_argument("Einsum output label '{}' appears more than once", c);
    const bool used = std::any_of(a.inputs.begin(), a.inputs.end(),
                                  [c](const std::string& t) { return t.find(c) != std::string::npos; });
    if (!used) return invalid_argument("Einsum output label '{}' does not appear in any input", c);
  }
  return Status::ok();
}

void fill_einsum(AttrReader& r, int64_t, EinsumAttrs& a) {
  r.require("equation");
  a.equation = r.s("equation", "");
  if (!r.status().is_ok()) return;
  Status s = parse_equation(a.equation, a);
  r.check(s.is_ok(), "attribute 'equation' ('" + a.equation + "'): " + s.message());
}

const OpRegistrar kGemm({"Gemm", "", 1, kNoTraits, attr_parser(fill_gemm)});
const OpRegistrar kMatMul({"MatMul", "", 1, kNoTraits, nullptr});
const OpRegistrar kMatMulInteger({"MatMulInteger", "", 10, kNoTraits, nullptr});
const OpRegistrar kEinsum({"Einsum", "", 12, kNoTraits, attr_parser(fill_einsum)});

}  // namespace
}  // namespace fulcrum::ops
