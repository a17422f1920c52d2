#include "locus/data/source.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <stdexcept>

#include "locus/data/builtin.hpp"
#include "locus/data/synthetic.hpp"
#include "locus/io/npy.hpp"

namespace locus {
namespace {

// The message of the std::invalid_argument that f throws ("" if none).
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

TEST(DataSource, EachSourceGivesWhatItsOwnLoaderGives) {
  const Dataset iris = load(
      {.dataset = "iris", .n_points = 30, .standardize = true, .labels = "scalar", .data_seed = 3});
  const Dataset ref =
      load_builtin("iris", {.standardize = true, .one_hot = false, .n_points = 30, .seed = 3});
  EXPECT_EQ(iris.x, ref.x);
  EXPECT_EQ(iris.y, ref.y);

  // Gaussian dimensions come from the model when not given.
  const MlpSpec model{.widths = {5, 7, 2}, .activation = Activation::tanh};
  const Dataset g = load({.dataset = "gaussian", .n_points = 11, .data_seed = 4}, model);
  EXPECT_EQ(g.x, gaussian_data(11, 5, 2, 4).x);
  EXPECT_EQ(g.y, gaussian_data(11, 5, 2, 4).y);
  EXPECT_EQ(load({.dataset = "gaussian", .n_points = 3, .input_dim = 2}).output_dim(), 1);

  // The teacher takes the student's activation unless told otherwise.
  const Dataset t = load({.dataset = "teacher", .teacher_arch = "5,3,2", .teacher_seed = 8}, model);
  const TeacherStudent ts =
      teacher_student({.teacher = {.widths = {5, 3, 2}, .activation = Activation::tanh},
                       .n_points = TeacherOptions{}.n_points,
                       .init = {.seed = 8}});
  EXPECT_EQ(t.y, ts.data.y);
  const Dataset t2 = load({.dataset = "teacher",
                           .teacher_arch = "5,3,2",
                           .teacher_activation = "softplus",
                           .teacher_seed = 8},
                          model);
  EXPECT_NE(t2.y, t.y);

  const Dataset grid = load({.dataset = "grid", .teacher_activation = "tanh"});
  EXPECT_EQ(grid.y, simsek_teacher(Activation::tanh).data.y);
}

TEST(DataSource, ReadsFiles) {
  const auto dir = std::filesystem::temp_directory_path();
  const std::string x = (dir / "locus_source_test_x.npy").string();
  const std::string y = (dir / "locus_source_test_y.npy").string();
  const Dataset g = gaussian_data(6, 3, 1, 2);
  io::write_npy(x, g.x);
  io::write_npy(y, g.y);
  const Dataset d = load({.x = x, .y = y});
  EXPECT_EQ(d.x, g.x);
  EXPECT_EQ(d.y, g.y);
  std::filesystem::remove(x);
  std::filesystem::remove(y);
}

TEST(DataSource, ErrorsNameTheFieldAsTheInterfaceSpellsIt) {
  struct Case {
    DataSource source;
    const char* field;
  };
  const Case cases[] = {
      {{}, "dataset"},
      {{.dataset = "mnist"}, "dataset"},
      {{.dataset = "iris", .x = "a.npy", .y = "b.npy"}, "dataset"},
      {{.x = "a.npy"}, "y"},
      {{.dataset = "gaussian"}, "n_points"},
      {{.dataset = "iris", .n_points = 0}, "n_points"},
      {{.dataset = "iris", .n_points = 1000}, "n_points"},  // iris has fewer distinct rows
      {{.dataset = "iris", .labels = "ordinal"}, "labels"},
      {{.dataset = "gaussian", .n_points = 3, .input_dim = 0}, "input_dim"},
      {{.dataset = "teacher"}, "teacher_arch"},
      {{.dataset = "teacher", .teacher_arch = "3,x,1"}, "teacher_arch"},
      {{.dataset = "teacher", .teacher_arch = "3,1", .teacher_activation = "swish"},
       "teacher_activation"},
      {{.dataset = "teacher", .teacher_arch = "3,1", .teacher_init = "uniform"}, "teacher_init"},
      // Fields the chosen source does not read are refused, not ignored.
      {{.x = "a.npy", .y = "b.npy", .n_points = 2}, "n_points"},
      {{.dataset = "grid", .n_points = 4}, "n_points"},
      {{.dataset = "iris", .input_dim = 4}, "input_dim"},
      {{.dataset = "teacher", .output_dim = 1, .teacher_arch = "3,1"}, "output_dim"},
  };
  const FieldNamer flag = [](std::string_view f) { return "<" + std::string(f) + ">"; };
  for (const Case& c : cases) {
    const std::string plain = error_of([&] { load(c.source); });
    EXPECT_NE(plain.find(c.field), std::string::npos) << c.field << ": " << plain;
    const std::string named = error_of([&] { load(c.source, std::nullopt, flag); });
    EXPECT_NE(named.find("<" + std::string(c.field) + ">"), std::string::npos)
        << c.field << ": " << named;
  }
  // Gaussian data without input_dim need a model to take p from.
  EXPECT_NE(error_of([] { load({.dataset = "gaussian", .n_points = 3}); }).find("input_dim"),
            std::string::npos);
}

TEST(DataSource, ParseWidthsAndJson) {
  EXPECT_EQ(parse_widths("10,4,1", "w"), (std::vector<Index>{10, 4, 1}));
  EXPECT_THROW(parse_widths("10", "w"), std::invalid_argument);
  EXPECT_THROW(parse_widths("10,,1", "w"), std::invalid_argument);
  EXPECT_THROW(parse_widths("10,0", "w"), std::invalid_argument);
  const io::Json j = to_json(DataSource{.dataset = "iris", .n_points = 5});
  EXPECT_EQ(j.begin().key(), "dataset");
  EXPECT_EQ(j["n_points"], 5);
  EXPECT_EQ(j["teacher_init"], std::string(to_string(InitOptions{}.scheme)));
  EXPECT_EQ(j.size(), 13u);  // every field of DataSource
}

}  // namespace
}  // namespace locus
