from flask.views import MethodView

from backend.extensions.smorest import Blueprint
from backend.keys import JwksSchema

from . import services
from .schemas import (
    CheckpointSchema,
    ConsistencyArgsSchema,
    ConsistencySchema,
    EntriesArgsSchema,
    EntriesSchema,
    InclusionArgsSchema,
    InclusionSchema,
)

blp = Blueprint(
    "transparency",
    __name__,
    url_prefix="/api/v1/transparency",
    description="The public transparency log (RFC 9162 Merkle tree) of publications, corrections, withdrawals, "
    "expiries and credential changes",
)


@blp.route("/checkpoint")
class CheckpointView(MethodView):
    @blp.response(200, CheckpointSchema)
    def get(self):
        """The signed head of the log: size, root hash, time, signature"""
        return services.checkpoint()


@blp.route("/entries")
class Entries(MethodView):
    @blp.arguments(EntriesArgsSchema, location="query")
    @blp.response(200, EntriesSchema)
    def get(self, args):
        """Entries [start, end), at most 1000"""
        return {"entries": services.entries(args["start"], args["end"])}


@blp.route("/proof/inclusion")
class InclusionProof(MethodView):
    @blp.arguments(InclusionArgsSchema, location="query")
    @blp.response(200, InclusionSchema)
    def get(self, args):
        """Audit path of entry `index` in the tree of `tree_size` (RFC 9162 §2.1.3)"""
        return services.inclusion(args["index"], args.get("tree_size"))


@blp.route("/proof/consistency")
class ConsistencyProof(MethodView):
    @blp.arguments(ConsistencyArgsSchema, location="query")
    @blp.response(200, ConsistencySchema)
    def get(self, args):
        """Consistency proof between tree sizes `first` and `second` (RFC 9162 §2.1.4)"""
        return services.consistency(args["first"], args.get("second"))


@blp.route("/keys")
class Keys(MethodView):
    @blp.without_storage
    @blp.response(200, JwksSchema)
    def get(self):
        """The public keys checkpoints are signed with (JWKS)"""
        return services.key_ring().jwks()
