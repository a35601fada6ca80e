#include "passes/pass.h"

#include "backends/cpu/layout_choice.h"
#include "core/error.h"
#include "core/logging.h"
#include "passes/cpu_blocked_layout.h"
#include "passes/cpu_fuse_depthwise.h"
#include "passes/eliminate_dead.h"
#include "passes/eliminate_identity.h"
#include "passes/fold_batchnorm.h"
#include "passes/fold_constants.h"
#include "passes/fuse_epilogue.h"
#include "passes/fuse_gelu.h"
#include "passes/fuse_layer_norm.h"

namespace fulcrum::passes {

Result<PassStats> run_passes(ir::Graph& graph, const std::vector<std::unique_ptr<Pass>>& passes, PassContext& ctx,
                             int max_rounds) {
  PassStats stats;
  stats.nodes_before = graph.nodes().size();
  FULCRUM_RETURN_IF_ERROR(ir::verify(graph).with_context("graph before passes"));
  while (stats.rounds < max_rounds) {
    ++stats.rounds;
    bool changed = false;
    for (const auto& pass : passes) {
      const size_t before = graph.nodes().size();
      auto result = pass->run(graph, ctx);
      if (!result.is_ok()) return result.status().with_context(fmt::format("pass '{}'", pass->name()));
      if (!*result) continue;
      changed = true;
      ++stats.changes[std::string(pass->name())];
      Status valid = ir::verify(graph);
      if (!valid.is_ok()) return internal_error("pass '{}' left an invalid graph: {}", pass->name(), valid.to_string());
      if (ctx.verbose)
        log_info("pass {} (round {}): {} -> {} nodes", pass->name(), stats.rounds, before, graph.nodes().size());
    }
    if (!changed) {
      stats.reached_fixed_point = true;
      break;
    }
  }
  stats.nodes_after = graph.nodes().size();
  if (ctx.verbose) {
    log_info("passes: {} -> {} nodes in {} rounds", stats.nodes_before, stats.nodes_after, stats.rounds);
    for (const auto& [pass, counts] : ctx.counters)
      for (const auto& [what, n] : counts)
        if (n != 0) log_info("  {}: {} {}", pass, n, what);
  }
  return stats;
}

std::vector<std::unique_ptr<Pass>> default_fp32_passes() {
  std::vector<std::unique_ptr<Pass>> out;
  out.push_back(std::make_unique<EliminateIdentity>());
  out.push_back(std::make_unique<FoldConstants>());
  out.push_back(std::make_unique<FoldBatchNorm>());
  out.push_back(std::make_unique<EliminateDead>());
  return out;
}

std::vector<std::unique_ptr<Pass>> fusion_passes() {
  std::vector<std::unique_ptr<Pass>> out;
  out.push_back(std::make_unique<FuseLayerNorm>());  // before the epilogue fusion takes its Adds
  out.push_back(std::make_unique<FuseGelu>());       // before the epilogue fusion, which absorbs Gelu
  out.push_back(std::make_unique<FuseEpilogue>());
  out.push_back(std::make_unique<EliminateDead>());
  return out;
}

std::vector<std::unique_ptr<Pass>> cpu_layout_passes() {
  std::vector<std::unique_ptr<Pass>> out;
  out.push_back(std::make_unique<CpuBlockedLayout>(backends::cpu::preferred_channel_block()));
  out.push_back(std::make_unique<CpuFuseDepthwise>());
  out.push_back(std::make_unique<EliminateDead>());
  return out;
}

}  // namespace fulcrum::passes
