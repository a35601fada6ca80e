#include <gtest/gtest.h>

#include "ops/attributes.h"

namespace fulcrum::ops {
namespace {

TEST(AttrReader, ReadsTypedValuesAndDefaults) {
  Attributes attrs{{"group", int64_t{4}}, {"pads", std::vector<int64_t>{1, 1, 1, 1}}, {"alpha", 0.5f}};
  AttrReader r(attrs);
  EXPECT_EQ(r.i("group", 1), 4);
  EXPECT_EQ(r.ints("pads"), (std::vector<int64_t>{1, 1, 1, 1}));
  EXPECT_FLOAT_EQ(r.f("alpha", 1.0f), 0.5f);
  EXPECT_EQ(r.s("auto_pad", "NOTSET"), "NOTSET");
  EXPECT_TRUE(r.status().is_ok());
}

TEST(AttrReader, WrongKindIsAnErrorNamingTheAttribute) {
  Attributes attrs{{"group", std::string("four")}};
  AttrReader r(attrs);
  EXPECT_EQ(r.i("group", 1), 1);
  ASSERT_FALSE(r.status().is_ok());
  EXPECT_NE(r.status().message().find("'group' must be int, got string"), std::string::npos) << r.status().message();
}

TEST(AttrReader, RequireAndCheckRecordTheFirstProblem) {
  Attributes attrs;
  AttrReader r(attrs);
  r.require("kernel_shape");
  r.check(false, "second problem");
  EXPECT_NE(r.status().message().find("kernel_shape"), std::string::npos);
}

}  // namespace
}  // namespace fulcrum::ops
